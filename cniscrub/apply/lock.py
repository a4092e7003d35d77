"""One cleaner at a time: an exclusive, non-blocking ``flock`` on the lock file.

The lock lives on the running node (not under ``--root``); tests point it elsewhere.

>>> import tempfile, os; p = os.path.join(tempfile.mkdtemp(), "l")
>>> with CleanerLock(p): pass
"""

from __future__ import annotations

import fcntl
import os
from types import TracebackType

from cniscrub.errors import PreflightError

DEFAULT_LOCK = "/run/cniscrub.lock"


class LockHeldError(PreflightError):
    """Another cniscrub process holds the lock."""


class CleanerLock:
    """Context manager holding the lock; raises :class:`LockHeldError` if taken.
    Holds nest on the same object (the CLI takes it before it imports the rest of
    cniscrub; the command's ``with`` then keeps holding it): the last release
    unlocks."""

    def __init__(self, path: str = DEFAULT_LOCK) -> None:
        self.path = path
        self.fd = -1
        self.depth = 0

    def acquire(self) -> None:
        if self.depth == 0:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                raise LockHeldError(
                    f"another cniscrub holds the lock {self.path}; refusing to run"
                ) from None
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()}\n".encode())
            self.fd = fd
        self.depth += 1

    def release(self) -> None:
        self.depth -= 1
        if self.depth == 0:
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.fd = -1

    def __enter__(self) -> CleanerLock:
        self.acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()
