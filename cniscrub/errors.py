"""The small error hierarchy every cniscrub layer raises.

Callers catch :class:`CleanerError` once (the CLI maps each subclass to an exit code);
library code raises the most specific subclass with a message an operator can act on.

>>> issubclass(StalePlanError, CleanerError)
True
"""

from __future__ import annotations


class CleanerError(Exception):
    """Base class of every error cniscrub raises on purpose."""


class UsageError(CleanerError):
    """The command line (or a file it names) cannot be used as given."""


class PreflightError(CleanerError):
    """Refused: the node is not in a state where cleaning is safe (agent running,
    lock held), or the operator did not confirm."""


class InventoryError(CleanerError):
    """Node state could not be read or parsed."""


class PlanError(CleanerError):
    """A plan could not be built or a saved plan file is unreadable."""


class StalePlanError(CleanerError):
    """The node changed since the saved plan was made."""


class BackupError(CleanerError):
    """An object could not be backed up, so it is not touched."""


class ApplyError(CleanerError):
    """An action failed while it was being applied."""


class RestoreError(CleanerError):
    """A journal could not be read or replayed."""
