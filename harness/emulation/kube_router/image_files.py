"""The kube-router image's own files inside an emulated container (test emulation).

A sandbox container sees the node's ``/usr`` (the host's). The kube-router image
(Alpine) holds, since v2.1.0, ``/usr/local/bin/cni-install`` and the CNI plugins it
installs in ``/usr/libexec/cni`` (kube-router-footprint.md §1). :func:`run_with_files`
runs a command in a **new** mount namespace, where the mount holding ``/usr`` is made
private, and ``/usr`` carries an overlay with them: ``cni-install`` is a
launcher of :mod:`cni_install`, the plugins are Debian's reference plugins
(``/usr/lib/cni``; upstream ships containernetworking/plugins v1.9.1). The overlay
lives and dies with that namespace: nothing reaches the node or the host, wherever
it is called from.
"""

from __future__ import annotations

import ctypes
import os
import subprocess
import sys
from pathlib import Path

from harness.emulation.kube_router.cni_install import IMAGE_DIR, PLUGINS

CNI_INSTALL = "/usr/local/bin/cni-install"
PLUGIN_SOURCE = "/usr/lib/cni"  # Debian's containernetworking-plugins
STAGING = "/mnt"
_libc = ctypes.CDLL(None, use_errno=True)
REPO = Path(__file__).resolve().parents[3]


CLONE_NEWNS = 0x00020000
MS_REC, MS_PRIVATE = 16384, 1 << 18


def _mount(
    source: str, target: str, fstype: str | None, data: str | None, flags: int = 0
) -> None:
    enc = [x.encode() if x is not None else None for x in (fstype, data)]
    if _libc.mount(source.encode(), target.encode(), enc[0], flags, enc[1]) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"mount {fstype or source} on {target}: {os.strerror(err)}")


def mount_point(path: str) -> str | None:
    """The mount point ``path`` lies on, as this process sees them; None when it is
    not visible (in a container the root is a directory of the runtime's own
    private staging mount)."""
    points = [
        ln.split()[4] for ln in Path("/proc/self/mountinfo").read_text().splitlines()
    ]
    inside = [p for p in points if path == p or path.startswith(p.rstrip("/") + "/")]
    return max(inside, key=len) if inside else None


def own_namespace() -> None:
    """A new mount namespace in which the mounts holding ``/usr`` and the staging
    directory are private: nothing mounted there afterwards propagates anywhere."""
    if _libc.unshare(CLONE_NEWNS) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"unshare(CLONE_NEWNS): {os.strerror(err)}")
    for path in {mount_point("/usr"), mount_point(STAGING)} - {None}:
        _mount("none", str(path), None, None, MS_REC | MS_PRIVATE)


def launcher(python: str = sys.executable) -> str:
    """The ``cni-install`` launcher: this interpreter running :mod:`cni_install`."""
    return (
        f"#!{python}\n"
        '"""kube-router image: cni-install (cniscrub test emulation)."""\n'
        "import sys\n"
        f"sys.path.insert(0, {str(REPO)!r})\n"
        "from harness.emulation.kube_router.cni_install import main\n"
        "sys.exit(main())\n"
    )


def lay_out() -> None:
    """Overlay ``/usr`` with the image's files; only :func:`main` calls it, in the
    namespace :func:`own_namespace` just made."""
    _mount("tmpfs", STAGING, "tmpfs", "mode=755,size=16m")
    upper, work = f"{STAGING}/upper", f"{STAGING}/work"
    os.makedirs(upper)
    os.makedirs(work)
    _mount(
        "overlay", "/usr", "overlay", f"lowerdir=/usr,upperdir={upper},workdir={work}"
    )
    os.makedirs(os.path.dirname(CNI_INSTALL), exist_ok=True)
    Path(CNI_INSTALL).write_text(launcher())
    os.chmod(CNI_INSTALL, 0o755)
    os.makedirs(IMAGE_DIR, exist_ok=True)
    for plugin in PLUGINS:
        os.symlink(f"{PLUGIN_SOURCE}/{plugin}", f"{IMAGE_DIR}/{plugin}")


def run_with_files(argv: list[str], cni_install: bool) -> int:
    """``argv`` as the image runs it: with the image's files when it has them (none
    before v2.1.0), in a mount namespace of its own."""
    if not cni_install:
        return subprocess.run(argv, check=False).returncode
    inner = [sys.executable, "-m", "harness.emulation.kube_router.image_files", *argv]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run(inner, check=False, env=env).returncode


def main() -> None:
    """``python -m …image_files ARGV…``: own namespace, the files, then exec ARGV."""
    own_namespace()
    lay_out()
    sys.stdout.flush()
    os.execv(sys.argv[1], sys.argv[1:])


if __name__ == "__main__":
    main()
