"""klog-style log lines for the flanneld emulation (test emulation).

flanneld logs like ``I1127 05:45:55.123456  4242 main.go:211] message``; the emulation
keeps the shape with its own file names, on stderr.

>>> KlogFormatter().format(logging.LogRecord("x", logging.INFO, "/a/main.py", 7,
...     "hi", None, None))[0]
'I'
"""

from __future__ import annotations

import logging
import sys
import time

_LEVEL = {"DEBUG": "I", "INFO": "I", "WARNING": "W", "ERROR": "E", "CRITICAL": "F"}


class KlogFormatter(logging.Formatter):
    """``Lmmdd hh:mm:ss.uuuuuu pid file:line] msg``."""

    def format(self, record: logging.LogRecord) -> str:
        """Render one record."""
        t = time.gmtime(record.created)
        usec = int((record.created % 1) * 1_000_000)
        stamp = time.strftime("%m%d %H:%M:%S", t)
        level = _LEVEL.get(record.levelname, "I")
        where = f"{record.filename}:{record.lineno}"
        msg = record.getMessage()
        return f"{level}{stamp}.{usec:06d} {record.process:>7} {where}] {msg}"


def setup_logging(level: int = logging.INFO) -> None:
    """Send ``harness.emulation.flannel`` logs to stderr in klog shape (idempotent)."""
    logger = logging.getLogger("harness.emulation.flannel")
    if any(getattr(h, "_flannel_klog", False) for h in logger.handlers):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(KlogFormatter())
    handler._flannel_klog = True  # type: ignore[attr-defined]
    logger.addHandler(handler)
    logger.setLevel(level)
    logger.propagate = False
