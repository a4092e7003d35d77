"""The one set of exit codes shared by every ``cniscrub`` subcommand.

Modelled on Terraform's ``-detailed-exitcode`` and pytest's ``ExitCode``:

>>> int(ExitCode.CHANGES_PENDING)
2
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Process exit status of the ``cniscrub`` CLI."""

    OK = 0  # nothing to do, or everything succeeded
    ERROR = 1  # unexpected error
    CHANGES_PENDING = 2  # plan/verify found the CNI's residue
    PARTIAL = 3  # some actions failed, the others were applied
    USAGE = 4  # bad command line
    STALE_PLAN = 5  # the node changed since the saved plan was made
    REFUSED = 6  # the CNI's agent runs, another cniscrub holds the lock,
    # or the operator did not confirm
