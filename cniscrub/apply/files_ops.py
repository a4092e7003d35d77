"""Remove files and allow-listed directories under ``--root``, never via a symlink.

A directory is only ever removed with ``rmdir`` (never recursively), and only when it is
one of the footprint's allow-listed directories; anything left inside makes it fail.

>>> import tempfile, os; d = tempfile.mkdtemp(); os.makedirs(d + "/run/flannel")
>>> from cniscrub.node.rootfs import RootFS
>>> remove(RootFS(d), "/run/flannel", "dir", "cbr0"), os.path.exists(d + "/run/flannel")
(None, False)
"""

from __future__ import annotations

from cniscrub.errors import CleanerError
from cniscrub.footprints.flannel_files import allowed_dir
from cniscrub.node.rootfs import RootFS


def remove(fs: RootFS, path: str, ftype: str, netname: str) -> str | None:
    """Delete one file or allow-listed directory; return an error message or None."""
    try:
        st = fs.lstat(path)
        if st is None:
            return None  # already gone: converged
        if ftype == "dir":
            if not allowed_dir(path, netname):
                return f"refusing to remove {path}: not an allow-listed directory"
            fs.rmdir(path)
        else:
            fs.unlink(path)
    except (OSError, CleanerError) as exc:
        return f"{path}: {exc}"
    return None
