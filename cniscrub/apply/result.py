"""What happened to one action: an :class:`ActionResult`, the one result type of
``apply`` and ``restore`` (and what the CLI renders and prints as JSON).

>>> r = ActionResult(3, "bridge br0", Status.FAILED, "device busy", duration=0.25)
>>> (r.ok, r.to_json()["status"], r.to_json()["error"])
(False, 'failed', 'device busy')
>>> ActionResult(3, "bridge br0", Status.NOOP, "already gone").to_json()["error"]
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Status(StrEnum):
    """How an action ended (the JSON ``status`` strings)."""

    APPLIED = "applied"  # apply: the object was removed
    RESTORED = "restored"  # restore: the object was put back
    NOOP = "noop"  # nothing to do: already gone (apply) / already there (restore)
    SKIPPED = "skipped"  # not attempted (e.g. its backup could not be made durable)
    NOT_RESTORABLE = "not restorable"  # restore: what it needs is gone for good
    REFUSED = "refused"  # restore: its backup cannot be trusted (object left as is)
    FAILED = "failed"  # attempted and failed, or its backup failed (not touched)


PROBLEMS = (Status.SKIPPED, Status.NOT_RESTORABLE, Status.REFUSED, Status.FAILED)


@dataclass(frozen=True)
class ActionResult:
    """One action's outcome. ``reason`` says why for any status but ``applied``;
    ``backup_ref`` names the journal event holding its backup (None: none made)."""

    action: int
    target: str
    status: Status
    reason: str | None = None
    duration: float = 0.0
    backup_ref: str | None = None
    tag: str = "apply"  # apply | restore: which run produced it

    @property
    def ok(self) -> bool:
        return self.status not in PROBLEMS

    def to_json(self) -> dict[str, Any]:
        """The ``results[]`` member of the apply/restore documents (``error``: the
        reason when the status is a problem, else null)."""
        return {
            "tag": self.tag,
            "action": self.action,
            "target": self.target,
            "status": str(self.status),
            "error": None if self.ok else self.reason,
            "reason": self.reason,
            "duration": self.duration,
            "backup_ref": self.backup_ref,
        }


Outcome = tuple[Status, str | None]  # what an operation reports for one action
APPLIED: Outcome = (Status.APPLIED, None)
GONE: Outcome = (Status.NOOP, "already gone (a re-run converging)")


def failed(message: str) -> Outcome:
    return (Status.FAILED, message)


def from_error(error: str | None) -> Outcome:
    """An operation's error message (None: it worked) as an outcome."""
    return APPLIED if error is None else failed(error)
