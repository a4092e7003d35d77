"""A command as an explicit list of phases, run in order by one small generic runner.

Each :class:`Phase` is a name and a function of the command's state. A phase returns
None to go on, or an exit code to stop the command there (e.g. "nothing to do"). Any
exception a phase raises comes out as a :class:`PhaseError` naming that phase, so every
error message says where the run stopped.

>>> seen = []
>>> phases = [Phase("a", lambda s: s.append("a")), Phase("b", lambda s: 0),
...           Phase("c", lambda s: s.append("c"))]
>>> run_phases(phases, seen), seen
(0, ['a'])
>>> run_phases([Phase("journal", lambda s: 1 / 0)], None)
Traceback (most recent call last):
...
cniscrub.cli.phases.PhaseError: journal: division by zero
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from cniscrub.errors import CleanerError

log = logging.getLogger(__name__)
S = TypeVar("S")


@dataclass(frozen=True)
class Phase(Generic[S]):
    """One step of a command: ``run(state)`` returns None (go on) or an exit code."""

    name: str
    run: Callable[[S], int | None]


class PhaseError(CleanerError):
    """An error raised inside a phase, with the phase's name."""

    def __init__(self, phase: str, cause: BaseException) -> None:
        self.phase, self.cause = phase, cause
        super().__init__(f"{phase}: {cause}")


def run_phases(phases: Sequence[Phase[S]], state: S) -> int | None:
    """Run ``phases`` in order until one returns an exit code (returned) or raises
    (re-raised as :class:`PhaseError`); None when every phase went on."""
    for phase in phases:
        start = time.monotonic()
        try:
            code = phase.run(state)
        except Exception as exc:
            raise PhaseError(phase.name, exc) from exc
        finally:
            log.debug("phase %s: %.3fs", phase.name, time.monotonic() - start)
        if code is not None:
            return code
    return None
