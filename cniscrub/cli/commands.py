"""The read-only subcommands and restore: phases over a :class:`RunContext`, then one
rendering (apply, with its journal and execution, is :mod:`cniscrub.cli.apply_cmd`).

Library code never prints; these functions write tagged human lines or one JSON
document through :class:`~cniscrub.cli.output.Output`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from cniscrub import footprints
from cniscrub.cli.context import RunContext
from cniscrub.cli.output import Output
from cniscrub.cli.phases import Phase, run_phases
from cniscrub.cli.planning import make_plan, save_plan, take_inventory
from cniscrub.cli.render import plan_lines, result_lines
from cniscrub.errors import PreflightError, RestoreError, UsageError
from cniscrub.exitcodes import ExitCode
from cniscrub.inventory.model import Inventory
from cniscrub.plan.model import Plan

if TYPE_CHECKING:
    from cniscrub.apply.journal import Journal
    from cniscrub.apply.result import ActionResult


@dataclass
class ReadRun:
    """State of ``plan``/``verify``: filled in phase by phase."""

    ctx: RunContext
    inv: Inventory | None = None
    plan: Plan | None = None


def _inventory(run: ReadRun) -> None:
    run.inv = take_inventory(run.ctx)


def _plan(run: ReadRun) -> None:
    assert run.inv is not None
    run.plan = make_plan(run.ctx, run.inv)


def _save(run: ReadRun) -> None:
    if run.ctx.out and run.plan is not None:
        save_plan(run.ctx, run.plan, run.ctx.out)


READ_PHASES: list[Phase[ReadRun]] = [
    Phase("inventory", _inventory),
    Phase("plan", _plan),
]


def _planned(ctx: RunContext, extra: list[Phase[ReadRun]]) -> Plan:
    run = ReadRun(ctx)
    run_phases([*READ_PHASES, *extra], run)
    assert run.plan is not None
    return run.plan


def cmd_plan(ctx: RunContext) -> ExitCode:
    plan = _planned(ctx, [Phase("save", _save)])
    code = ExitCode.OK if plan.empty else ExitCode.CHANGES_PENDING
    doc = {**plan.to_json(), "exit_code": int(code)}
    Output(ctx.json).document(doc, plan_lines(plan))
    return code


def cmd_verify(ctx: RunContext) -> ExitCode:
    plan = _planned(ctx, [])
    code = ExitCode.OK if plan.empty else ExitCode.CHANGES_PENDING
    doc = {
        "schema": "cniscrub/verify/v1",
        "clean": plan.empty,
        "residue": [a.to_json() for a in plan.actions],
        "left_alone": [{"target": t, "why": w} for t, w in plan.left_alone],
        "warnings": list(plan.warnings),
        "exit_code": int(code),
    }
    title = footprints.get(plan.cni).title
    verdict = (
        "[verify] ✓ clean" if plan.empty else f"[verify] ✗ {title} residue remains"
    )
    Output(ctx.json).document(doc, [*plan_lines(plan, "verify"), verdict])
    return code


@dataclass
class RestoreRun:
    """State of ``restore``."""

    ctx: RunContext
    journal: Journal | None = None
    root: str = "/"  # where files go back: --root, else the journal's
    results: list[ActionResult] = field(default_factory=list)


def _restore_preflight(run: RestoreRun) -> None:
    if not run.ctx.yes:
        raise PreflightError("restore changes the node; pass --yes")


def _open_journal(run: RestoreRun) -> None:
    from cniscrub.apply.journal import Journal

    assert run.ctx.journal is not None
    try:
        run.journal = Journal.open(run.ctx.journal)
    except RestoreError as exc:
        raise UsageError(str(exc)) from exc
    root = run.ctx.root or run.journal.root() or "/"
    if not os.path.isdir(root):
        raise UsageError(f"the journal's root {root} is not a directory; give --root")
    run.root = root
    Output(run.ctx.json).lines([f"[restore] root: {root}"])


def _replay(run: RestoreRun) -> None:
    from cniscrub.apply.lock import CleanerLock
    from cniscrub.apply.restore import restore_journal
    from cniscrub.node.rootfs import RootFS
    from cniscrub.node.runner import LocalRunner

    assert run.journal is not None
    with CleanerLock(run.ctx.lock_file):
        run.results = restore_journal(run.journal, RootFS(run.root), LocalRunner())


RESTORE_PHASES: list[Phase[RestoreRun]] = [
    Phase("preflight", _restore_preflight),
    Phase("journal", _open_journal),
    Phase("restore", _replay),
]


def cmd_restore(ctx: RunContext) -> ExitCode:
    run = RestoreRun(ctx)
    run_phases(RESTORE_PHASES, run)
    code = ExitCode.OK if all(r.ok for r in run.results) else ExitCode.PARTIAL
    doc = {
        "schema": "cniscrub/restore/v1",
        "journal": ctx.journal,
        "results": [r.to_json() for r in run.results],
        "exit_code": int(code),
    }
    Output(ctx.json).document(doc, result_lines(run.results))
    return code
