"""Remove files and allow-listed directories under ``--root``, never via a symlink.

A directory is only ever removed with ``rmdir`` (never recursively), and only when the
plan lists it among its allow-listed directories; anything left inside makes it fail.

>>> import tempfile, os; d = tempfile.mkdtemp(); os.makedirs(d + "/run/toy")
>>> from cniscrub.node.rootfs import RootFS
>>> remove(RootFS(d), "/run/toy", "dir", ("/run/toy",)), os.path.exists(d + "/run/toy")
((<Status.APPLIED: 'applied'>, None), False)
>>> remove(RootFS(d), "/run/toy", "dir", ("/run/toy",))[0]
<Status.NOOP: 'noop'>
"""

from __future__ import annotations

from collections.abc import Collection

from cniscrub.apply.result import APPLIED, GONE, Outcome, failed
from cniscrub.errors import CleanerError
from cniscrub.node.rootfs import RootFS


def remove(fs: RootFS, path: str, ftype: str, allowed_dirs: Collection[str]) -> Outcome:
    """Delete one file or allow-listed directory."""
    try:
        st = fs.lstat(path)
        if st is None:
            return GONE
        if ftype == "dir":
            if path not in allowed_dirs:
                return failed(
                    f"refusing to remove {path}: not an allow-listed directory"
                )
            fs.rmdir(path)
        else:
            fs.unlink(path)
    except (OSError, CleanerError) as exc:
        return failed(f"{path}: {exc}")
    return APPLIED
