"""Bounded waiting: every wait in the harness has a timeout and says what it waited for.

>>> until(lambda: 42, timeout=1, what="the answer")
42
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


class WaitTimeout(AssertionError):
    """A condition did not become true in time (an AssertionError, so pytest shows it)."""


def until(
    fn: Callable[[], T], timeout: float = 30.0, interval: float = 0.1, what: str = ""
) -> T:
    """Call ``fn`` until it returns something truthy; return that, or raise WaitTimeout."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while True:
        try:
            value = fn()
            if value:
                return value
        except (
            Exception
        ) as exc:  # keep trying until the deadline, report the last error
            last_error = exc
        if time.monotonic() > deadline:
            detail = f" (last error: {last_error})" if last_error else ""
            raise WaitTimeout(
                f"timed out after {timeout:.0f}s waiting for {what or fn}{detail}"
            )
        time.sleep(interval)
