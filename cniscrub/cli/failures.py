"""How an error ends a run: its exit code, the one-line message on stderr, and (with
``--json``) the error document ``cniscrub/error/v1`` on stdout.

>>> from cniscrub.errors import StalePlanError
>>> code, msg = classify(PhaseError("plan", StalePlanError("plan 1 is stale")))
>>> (int(code), msg)
(5, 'plan: plan 1 is stale')
"""

from __future__ import annotations

import logging
from typing import Any

from cniscrub.cli.phases import PhaseError
from cniscrub.errors import (
    CleanerError,
    PlanError,
    PreflightError,
    StalePlanError,
    UsageError,
)
from cniscrub.exitcodes import ExitCode

log = logging.getLogger(__name__)
ERROR_SCHEMA = "cniscrub/error/v1"
CODES: tuple[tuple[type[CleanerError], ExitCode], ...] = (
    (UsageError, ExitCode.USAGE),
    (PlanError, ExitCode.USAGE),  # a saved plan that cannot be read
    (StalePlanError, ExitCode.STALE_PLAN),
    (PreflightError, ExitCode.REFUSED),
)


def classify(exc: BaseException) -> tuple[ExitCode, str]:
    """Exit code and message for ``exc`` (a phase's error names the phase)."""
    phase = exc.phase if isinstance(exc, PhaseError) else None
    cause = exc.cause if isinstance(exc, PhaseError) else exc
    code = next((c for t, c in CODES if isinstance(cause, t)), ExitCode.ERROR)
    if isinstance(cause, CleanerError):
        text = str(cause)
    else:  # a bug or an unforeseen condition: a message, never a bare traceback
        log.debug("unexpected error", exc_info=cause)
        text = (
            f"unexpected error: {type(cause).__name__}: {cause} (run with -v for "
            "details)"
        )
    return code, f"{phase}: {text}" if phase else text


def error_document(
    command: str | None, exc: BaseException, code: ExitCode, message: str
) -> dict[str, Any]:
    """The ``--json`` document of a run that ended with an error or a refusal."""
    return {
        "schema": ERROR_SCHEMA,
        "command": command,
        "phase": exc.phase if isinstance(exc, PhaseError) else None,
        "error": message,
        "exit_code": int(code),
    }
