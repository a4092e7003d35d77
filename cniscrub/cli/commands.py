"""The read-only subcommands and restore: phases over a :class:`RunContext`, then one
rendering (apply, with its journal and execution, is :mod:`cniscrub.cli.apply_cmd`).

Library code never prints; these functions write tagged human lines or one JSON
document through :class:`~cniscrub.cli.output.Output`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

from cniscrub import footprints
from cniscrub.cli.context import RunContext
from cniscrub.cli.output import Output
from cniscrub.cli.phases import Phase, run_phases
from cniscrub.cli.planning import make_plan, save_plan, take_inventory
from cniscrub.cli.render import plan_lines, result_lines
from cniscrub.errors import PreflightError, UsageError
from cniscrub.exitcodes import ExitCode
from cniscrub.inventory.model import Inventory
from cniscrub.journal import DEFAULT_JOURNAL_DIR
from cniscrub.plan.model import Plan

if TYPE_CHECKING:
    from cniscrub.apply.restore import RestoreReport
    from cniscrub.journal.reader import JournalView


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
    code = ExitCode.OK if plan.clean else ExitCode.CHANGES_PENDING
    doc = {**plan.to_json(), "exit_code": int(code)}
    Output(ctx.json).document(doc, plan_lines(plan))
    return code


def cmd_verify(ctx: RunContext) -> ExitCode:
    plan = _planned(ctx, [])
    code = ExitCode.OK if plan.clean else ExitCode.CHANGES_PENDING
    doc = {
        "schema": "cniscrub/verify/v1",
        "clean": plan.clean,
        "residue": [a.to_json() for a in plan.actions],
        "unresolved": list(plan.unresolved),
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
    view: JournalView | None = None
    root: str = "/"  # where files go back: --root, else the journal's (confirmed)
    report: RestoreReport | None = None


def _restore_preflight(run: RestoreRun) -> None:
    if not run.ctx.yes:
        raise PreflightError("restore changes the node; pass --yes")


def _confirmed_root(ctx: RunContext, view: JournalView) -> str:
    """``--root``, or the root the journal names when that is confirmed: by
    ``--journal-root``, or by the journal living in that root's journal directory
    (where apply keeps them). A journal's own say is not enough: an edited start
    event must not send restored files elsewhere."""
    recorded = view.root
    if ctx.root is not None:
        return ctx.root
    if recorded is None:
        raise UsageError("the journal records no root; give --root")
    home = os.path.join(recorded, DEFAULT_JOURNAL_DIR.lstrip("/"))
    if not (ctx.journal_root or os.path.realpath(os.path.dirname(view.path)) == home):
        raise UsageError(
            f"the journal says its apply run used --root {recorded}; confirm it with "
            f"--root {recorded} (or --journal-root): a journal kept outside that root's "
            "journal directory is not trusted to choose where files are written"
        )
    if not os.path.isdir(recorded):
        raise UsageError(
            f"the journal's root {recorded} is not a directory; give --root"
        )
    return recorded


def _open_journal(run: RestoreRun) -> None:
    from cniscrub.journal.reader import NotAJournalError, read_journal

    assert run.ctx.journal is not None
    try:
        run.view = read_journal(run.ctx.journal)
    except NotAJournalError as exc:
        raise UsageError(str(exc)) from exc
    run.root = _confirmed_root(run.ctx, run.view)
    lines = [f"[restore] root: {run.root}"]
    if run.view.root and os.path.realpath(run.root) != run.view.root:
        lines.append(f"[restore] note: the apply run used root {run.view.root}")
    Output(run.ctx.json).lines(lines)


def _replay(run: RestoreRun) -> None:
    from cniscrub.apply.lock import CleanerLock
    from cniscrub.apply.restore import restore_journal
    from cniscrub.node.rootfs import RootFS
    from cniscrub.node.runner import LocalRunner

    assert run.view is not None
    with CleanerLock(run.ctx.lock_file):
        run.report = restore_journal(run.view, RootFS(run.root), LocalRunner())


RESTORE_PHASES: list[Phase[RestoreRun]] = [
    Phase("preflight", _restore_preflight),
    Phase("journal", _open_journal),
    Phase("restore", _replay),
]


def cmd_restore(ctx: RunContext) -> ExitCode:
    from cniscrub.apply.restore import record_report

    run = RestoreRun(ctx)
    run_phases(RESTORE_PHASES, run)
    assert run.report is not None and run.view is not None
    report = run.report
    code = ExitCode.OK if report.ok else ExitCode.PARTIAL
    doc = {
        "schema": "cniscrub/restore/v1",
        "journal": ctx.journal,
        "root": run.root,
        "results": [r.to_json() for r in report.results],
        "problems": report.problems,
        "notes": report.notes,
        "exit_code": int(code),
    }
    if not record_report(run.view.path, doc):
        report.notes.append("this report could not be saved next to the journal")
    lines = [*result_lines(report.results)]
    lines += [f"[restore] ✗ {p}" for p in report.problems]
    lines += [f"[restore] note: {n}" for n in report.notes]
    Output(ctx.json).document(doc, lines)
    return code
