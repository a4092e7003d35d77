"""``cniscrub apply``: the command as an explicit list of phases --

    preflight -> inventory -> plan -> confirm -> journal -> execute -> verify

run by :func:`~cniscrub.cli.phases.run_phases` over one :class:`ApplyRun`. The lock is
held from preflight to the end. A phase stops the run early with an exit code (plan:
nothing to do) or an error naming the phase (plan: stale or refused; journal: cannot
be created); then :func:`report` renders what happened.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from cniscrub.cli.context import RunContext
from cniscrub.cli.output import Output
from cniscrub.cli.phases import Phase, run_phases
from cniscrub.cli.planning import make_plan, take_inventory
from cniscrub.cli.render import action_line, plan_lines, result_lines
from cniscrub.errors import PreflightError, StalePlanError
from cniscrub.exitcodes import ExitCode
from cniscrub.inventory.model import Inventory
from cniscrub.plan.model import Plan

if TYPE_CHECKING:
    from cniscrub.apply.lock import CleanerLock
    from cniscrub.apply.result import ActionResult
    from cniscrub.journal.writer import Journal


@dataclass
class ApplyRun:
    """What the phases of one apply fill in, in order."""

    ctx: RunContext
    out: Output
    lock: CleanerLock | None = None
    inv: Inventory | None = None
    plan: Plan | None = None
    journal: Journal | None = None
    results: list[ActionResult] = field(default_factory=list)
    stopped: str | None = None  # execute: why the run stopped early (journal failure)
    verify: dict[str, Any] | None = None


def preflight(run: ApplyRun) -> None:
    """Hold the lock (the CLI may already hold it) for the rest of the run."""
    from cniscrub.apply.lock import CleanerLock

    lock = run.ctx.early.lock or CleanerLock(run.ctx.lock_file)
    lock.acquire()  # nests on the early hold; raises LockHeldError if taken
    run.lock = lock


def inventory(run: ApplyRun) -> None:
    run.inv = take_inventory(run.ctx)


def plan(run: ApplyRun) -> int | None:
    """A fresh plan; a saved one must still match the node; refuse on blockers."""
    assert run.inv is not None
    run.plan = fresh = make_plan(run.ctx, run.inv)
    saved = run.ctx.saved_plan
    if saved and saved.fingerprint != fresh.fingerprint:
        raise StalePlanError(
            f"plan {saved.plan_id} is stale: the node changed (now "
            f"{fresh.plan_id}); run `cniscrub plan` again"
        )
    if fresh.blockers and not run.ctx.force:
        raise PreflightError(
            "refused: " + "; ".join(fresh.blockers) + " (use --force to override)"
        )
    if fresh.empty:
        code = ExitCode.OK if fresh.clean else ExitCode.PARTIAL
        lines = [f"[apply] plan {fresh.plan_id}: nothing to do"]
        lines += [f"[apply] ✗ unresolved: {u}" for u in fresh.unresolved]
        run.out.document(apply_document(run, code), lines)
        return code
    return None


def confirm(run: ApplyRun) -> None:
    assert run.plan is not None
    if run.ctx.yes:
        return
    if not sys.stdin.isatty():
        raise PreflightError("refusing to apply without --yes when stdin is not a TTY")
    sys.stdout.write("".join(line + "\n" for line in plan_lines(run.plan)))
    sys.stdout.write("Apply this plan? [y/N] ")
    sys.stdout.flush()
    if sys.stdin.readline().strip().lower() not in ("y", "yes"):
        raise PreflightError("not confirmed; nothing was changed")


def journal(run: ApplyRun) -> None:
    from cniscrub.journal import DEFAULT_JOURNAL_DIR
    from cniscrub.journal.writer import Journal

    assert run.plan is not None and run.ctx.root is not None
    base = run.ctx.journal_dir or os.path.join(
        os.path.realpath(run.ctx.root), DEFAULT_JOURNAL_DIR.lstrip("/")
    )
    run.journal = Journal.create(
        base, run.plan.plan_id, run.plan.to_json(), run.ctx.root
    )


def execute(run: ApplyRun) -> None:
    from cniscrub.apply.executor import Executor
    from cniscrub.apply.link_state import LinkState
    from cniscrub.node.rootfs import RootFS
    from cniscrub.node.runner import LocalRunner

    assert run.plan and run.inv and run.journal and run.ctx.root is not None
    groups = {int(r.data.get("group") or 0) for r in run.inv.of("link")}
    links = LinkState(run.ctx.early.link_tables)
    fs = RootFS(run.ctx.root)
    executor = Executor(fs, LocalRunner(), run.journal, run.plan, links, groups)
    if run.ctx.json:  # one document at the end, no progress lines
        run.results = executor.run()
    else:
        run.results = executor.run(
            lambda r: run.out.lines(result_lines([r])),
            lambda a: run.out.lines([action_line("apply", a)]),
        )
    run.stopped = executor.stopped


def verify(run: ApplyRun) -> None:
    """The targeted check: is any object the plan acted on still there?"""
    from cniscrub.apply.verify import verify_acted
    from cniscrub.node.rootfs import RootFS
    from cniscrub.node.runner import LocalRunner

    assert run.plan is not None and run.ctx.root is not None
    if run.ctx.verify and not run.stopped:
        fs = RootFS(run.ctx.root)
        run.verify = verify_acted(fs, LocalRunner(), run.plan.actions)
        run.verify["unresolved"] = list(run.plan.unresolved)  # never clean while any
        run.verify["clean"] = run.verify["clean"] and not run.plan.unresolved


PHASES: list[Phase[ApplyRun]] = [
    Phase("preflight", preflight),
    Phase("inventory", inventory),
    Phase("plan", plan),
    Phase("confirm", confirm),
    Phase("journal", journal),
    Phase("execute", execute),
    Phase("verify", verify),
]


def apply_document(run: ApplyRun, code: ExitCode) -> dict[str, Any]:
    """``cniscrub/apply/v1``."""
    assert run.plan is not None
    return {
        "schema": "cniscrub/apply/v1",
        "plan": run.plan.to_json(),
        "journal": run.journal.path if run.journal else None,
        "results": [r.to_json() for r in run.results],
        "stopped": run.stopped,
        "verify": run.verify,
        "exit_code": int(code),
    }


def _exit_code(run: ApplyRun) -> ExitCode:
    """0 all done; 3 partial (an action did not succeed, an acted-on object is still
    there, or the journal failed after something was done); 1 when the journal failed
    before anything was touched."""
    if run.stopped:
        done = any(r.status in ("applied", "noop") for r in run.results)
        return ExitCode.PARTIAL if done else ExitCode.ERROR
    bad = any(not r.ok for r in run.results)
    return (
        ExitCode.PARTIAL
        if bad or (run.verify and not run.verify["clean"])
        else ExitCode.OK
    )


def report(run: ApplyRun) -> ExitCode:
    """Render the run; its exit code (:func:`_exit_code`)."""
    assert run.journal is not None
    failed = [r for r in run.results if not r.ok]
    lines = [f"[apply] journal: {run.journal.path}"]
    if run.stopped:
        run.out.error(
            f"execute: {run.stopped}; {len(failed)} object(s) not touched. Everything "
            f"removed so far is backed up: `cniscrub restore {run.journal.path}`"
        )
    if run.verify is not None and run.verify["clean"]:
        lines.append(
            f"[verify] ✓ clean ({run.verify['checked']} acted-on objects gone)"
        )
    elif run.verify is not None:
        lines.append(f"[verify] ✗ {run.verify['remaining']} left:")
        lines += [f"[verify]   {target}" for target in run.verify["left"]]
        lines += [f"[verify] ✗ unresolved: {u}" for u in run.verify["unresolved"]]
    code = _exit_code(run)
    done = len(run.results) - len(failed)
    lines.append(f"[apply] {done} applied, {len(failed)} failed")
    run.out.document(apply_document(run, code), lines)
    return code


def cmd_apply(ctx: RunContext) -> ExitCode:
    run = ApplyRun(ctx, Output(ctx.json))
    try:
        stopped = run_phases(PHASES, run)
    finally:
        if run.lock is not None:
            run.lock.release()
    return ExitCode(stopped) if stopped is not None else report(run)
