"""One run's context: everything a ``cniscrub`` command needs, built once from the
command line by :func:`cniscrub.cli.main.main` and never changed afterwards.

:class:`EarlyReads` is the work started before the rest of cniscrub is imported (the
lock, the ``*-save`` processes, apply's netlink child); :class:`RunContext` holds the
options with every default resolved -- the CNI (from ``--cni`` or a saved plan) and the
root (``--root``, else the saved plan's, else ``/``; restore without ``--root`` leaves it
None: its journal phase takes the journal's recorded root).

>>> ctx = RunContext("plan", cni="flannel", root="/", json=False)
>>> (ctx.verify, ctx.lock_file)
(True, '/run/cniscrub.lock')
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from cniscrub.apply.lock import DEFAULT_LOCK

if TYPE_CHECKING:
    from cniscrub.apply.lock import CleanerLock
    from cniscrub.inventory.iptables import Pending
    from cniscrub.node.netlink_child import DumpChild
    from cniscrub.plan.model import Plan

log = logging.getLogger(__name__)


@dataclass
class EarlyReads:
    """What runs beside the command from the start: the lock apply takes first (so
    nothing is read while another cleaner may still change the node), the rule
    collection (``*-save`` processes), and for apply a child decoding the links'
    neighbour/FDB tables on the other core."""

    lock: CleanerLock | None = None
    rules: Pending | None = None
    link_tables: DumpChild | None = None

    def close(self) -> None:
        """Stop the child and release the early hold of the lock."""
        if self.link_tables is not None:
            self.link_tables.close()
            self.link_tables = None
        if self.lock is not None:
            self.lock.release()
            self.lock = None


@dataclass(frozen=True)
class RunContext:
    """The options of one run, resolved; read by every phase, changed by none."""

    command: str  # plan | apply | verify | restore
    cni: str | None  # footprint name; None only for restore
    root: str | None  # where file paths resolve (a directory); None: see above
    json: bool
    yes: bool = False
    force: bool = False  # apply: run even though the CNI's agent is running
    verify: bool = True  # apply: check the acted-on objects afterwards
    lock_file: str = DEFAULT_LOCK
    journal_dir: str | None = None  # apply: base directory of journals
    out: str | None = None  # plan: also save the plan here
    saved_plan: Plan | None = None  # apply PLAN: the plan to apply exactly
    journal: str | None = None  # restore: the journal directory
    journal_root: bool = False  # restore: trust the root the journal names
    early: EarlyReads = field(default_factory=EarlyReads)
