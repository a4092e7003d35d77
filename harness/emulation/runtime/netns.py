"""Persistent network namespaces like ``ip netns add`` (test emulation only).

Same algorithm as iproute2 and ``pyroute2.netns.create``: make the netns directory a
shared mount (bind-mounting it onto itself once if needed), create an empty file, and
in a forked child ``unshare(CLONE_NEWNET)`` and bind-mount ``/proc/self/ns/net`` onto
the file. Done with ctypes here because importing ``pyroute2.netns`` costs ~170 ms per
CLI call and a pod ADD must stay well under 200 ms.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import fcntl
import os
import uuid

__all__ = ["create", "new_name", "release_dir", "remove"]

CLONE_NEWNET = 0x40000000
MS_BIND = 4096
MS_REC = 16384
MS_SHARED = 1 << 20
MNT_DETACH = 2

_libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)


def _mount(source: str, target: str, flags: int) -> None:
    rc = _libc.mount(source.encode(), target.encode(), b"none", flags, None)
    if rc != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"mount {source} on {target}: {os.strerror(err)}")


def new_name() -> str:
    """containerd's pod netns name: ``cni-<uuid4>``."""
    return f"cni-{uuid.uuid4()}"


def _share_dir(directory: str) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # concurrent ADDs: bind the dir once only
        _share_dir_locked(directory)
    finally:
        os.close(fd)


def _share_dir_locked(directory: str) -> None:
    try:
        _mount("", directory, MS_SHARED | MS_REC)
    except OSError as exc:
        if exc.errno != errno.EINVAL:
            raise
        _mount(directory, directory, MS_BIND | MS_REC)
        _mount("", directory, MS_SHARED | MS_REC)


def create(path: str) -> str:
    """Create a persistent netns bound at ``path`` (must not exist)."""
    directory = os.path.dirname(path)
    os.makedirs(directory, mode=0o755, exist_ok=True)
    _share_dir(directory)
    os.close(os.open(path, os.O_RDONLY | os.O_CREAT | os.O_EXCL, 0))
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: never returns
        code = 0
        try:
            os.close(read_fd)
            if _libc.unshare(CLONE_NEWNET) != 0:
                raise OSError(ctypes.get_errno(), "unshare(CLONE_NEWNET)")
            _mount("/proc/self/ns/net", path, MS_BIND)
        except OSError as exc:
            os.write(write_fd, str(exc).encode()[:500])
            code = 1
        finally:
            os._exit(code)
    os.close(write_fd)
    with os.fdopen(read_fd, "rb") as pipe:
        problem = pipe.read().decode(errors="replace")
    _, status = os.waitpid(pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        try:
            os.unlink(path)
        except OSError:
            pass
        raise OSError(f"failed to create netns {path}: {problem or status}")
    return path


def remove(path: str) -> bool:
    """Unmount and delete a netns file; False if it did not exist."""
    if not os.path.lexists(path):
        return False
    _libc.umount2(path.encode(), MNT_DETACH)
    try:
        os.unlink(path)
    except FileNotFoundError:
        return False
    return True


def release_dir(directory: str) -> None:
    """Undo ``_share_dir``'s self bind mount of ``directory`` (test clean-up)."""
    _libc.umount2(directory.encode(), MNT_DETACH)
