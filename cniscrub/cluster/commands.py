"""The three cluster commands, each: discover → plan → (run) → print, with its exit
code (see :mod:`cniscrub.cluster.cli`)."""

from __future__ import annotations

import argparse
import sys

from cniscrub import footprints
from cniscrub.cluster import render
from cniscrub.cluster.api import Api
from cniscrub.cluster.cli import run_id
from cniscrub.cluster.discover import discover
from cniscrub.cluster.execute import Executor, Outcome
from cniscrub.cluster.model import ClusterPlan, NodeResult
from cniscrub.cluster.planner import Options, make_plan
from cniscrub.cluster.progress import Progress
from cniscrub.errors import PreflightError
from cniscrub.exitcodes import ExitCode
from cniscrub.footprints.spec import FootprintSpec


def _plan(
    api: Api, args: argparse.Namespace, command: str
) -> tuple[FootprintSpec, ClusterPlan, str]:
    spec = footprints.get(args.cni)
    rid = run_id()
    state = discover(api, spec, args.nodes)
    opts = Options(command, args.image, args.namespace, rid, args.timeout)
    return spec, make_plan(state, spec, opts), rid


def _execute(
    api: Api,
    args: argparse.Namespace,
    progress: Progress,
    planned: tuple[FootprintSpec, ClusterPlan, str],
    command: str = "apply",
) -> Outcome:
    spec, plan, rid = planned
    return Executor(
        api,
        plan,
        spec,
        progress,
        parallel=args.parallel,
        timeout=args.timeout,
        keep_jobs=args.keep_jobs,
        run_id=rid,
        namespace=args.namespace,
        command=command,
    ).run()


def _node_jobs(
    api: Api, args: argparse.Namespace, progress: Progress, command: str
) -> tuple[ClusterPlan, list[NodeResult], str]:
    """Run the read-only ``command`` (plan or verify) on every node through Jobs."""
    spec, plan, rid = _plan(api, args, command)
    jobs_only = ClusterPlan(
        plan.state, plan.step("run-jobs"), plan.job_nodes, plan.unreachable
    )
    outcome = _execute(api, args, progress, (spec, jobs_only, rid), command)
    return plan, outcome.nodes, rid


def cmd_plan(api: Api, args: argparse.Namespace, progress: Progress) -> ExitCode:
    spec, plan, _ = _plan(api, args, "apply")
    results: list[NodeResult] = []
    if not args.api_only:
        _, results, _ = _node_jobs(api, args, progress, "plan")
    pending = plan.api_pending or any(not r.clean for r in results)
    code = ExitCode.CHANGES_PENDING if pending else ExitCode.OK
    if args.json:
        extra = {
            "node_plans": [r.to_json() for r in results] if not args.api_only else None
        }
        render.print_json(render.document("plan", plan, int(code), extra=extra))
    else:
        render.print_plan(plan, f"{spec.title}")
        if results:
            render.print_nodes(results, "each node's own plan")
    return code


def _confirm(args: argparse.Namespace, plan: ClusterPlan) -> None:
    if args.yes or args.dry_run:
        return
    if not sys.stdin.isatty():
        raise PreflightError("cluster apply: give --yes (no terminal to confirm on)")
    render.print_plan(plan, plan.state.cni)
    if input("Proceed? [y/N] ").strip().lower() not in ("y", "yes"):
        raise PreflightError("cluster apply: not confirmed")


def cmd_apply(api: Api, args: argparse.Namespace, progress: Progress) -> ExitCode:
    spec, plan, rid = _plan(api, args, "apply")
    if args.dry_run:
        code = ExitCode.CHANGES_PENDING if plan.steps else ExitCode.OK
        if args.json:
            extra = {"dry_run": True, "run_id": rid}
            render.print_json(render.document("apply", plan, int(code), extra=extra))
        else:
            render.print_dry_run(plan)
        return code
    _confirm(args, plan)
    outcome = _execute(api, args, progress, (spec, plan, rid))
    code = ExitCode.OK if outcome.clean else ExitCode.PARTIAL
    _report("apply", plan, outcome, code, args, rid)
    return code


def cmd_verify(api: Api, args: argparse.Namespace, progress: Progress) -> ExitCode:
    plan, results, rid = _node_jobs(api, args, progress, "verify")
    residue = plan.api_pending or any(r.verdict == "residue" for r in results)
    unchecked = any(r.verdict not in ("clean", "residue") for r in results)
    code = (
        ExitCode.CHANGES_PENDING
        if residue
        else ExitCode.PARTIAL
        if unchecked
        else ExitCode.OK
    )
    outcome = Outcome(nodes=results)
    _report("verify", plan, outcome, code, args, rid)
    return code


def _report(
    command: str,
    plan: ClusterPlan,
    outcome: Outcome,
    code: ExitCode,
    args: argparse.Namespace,
    rid: str,
) -> None:
    if args.json:
        extra = (
            {"run_id": rid, "dry_run": False} if command == "apply" else {"run_id": rid}
        )
        render.print_json(render.document(command, plan, int(code), outcome, extra))
        return
    if command == "verify" and plan.api_pending:
        render.print_plan(plan, "API residue of " + plan.state.cni)
    clean = sum(1 for r in outcome.nodes if r.clean)
    title = f"cniscrub cluster {command}: {clean}/{len(outcome.nodes)} node(s) clean"
    render.print_nodes(outcome.nodes, title)
    failed = [s for s in outcome.steps if s.status == "failed"]
    for step in failed:
        sys.stdout.write(f"step {step.id} failed: {step.error}\n")
    for pod in outcome.waited_out:
        sys.stdout.write(f"agent pod left: {pod}\n")
