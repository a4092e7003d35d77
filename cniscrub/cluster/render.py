"""What a cluster run prints on stdout: one JSON document with ``--json``
(``cniscrub/cluster-plan/v1``, ``cluster-apply/v1``, ``cluster-verify/v1``; see
docs/cniscrub-json-schema.md), else the plan and a summary table per node (rich
tables, plain text when stdout is not a terminal).
"""

from __future__ import annotations

import json
import sys
from typing import Any

import yaml

from cniscrub.cluster.execute import Outcome
from cniscrub.cluster.model import ClusterPlan, NodeResult

SCHEMAS = {
    "plan": "cniscrub/cluster-plan/v1",
    "apply": "cniscrub/cluster-apply/v1",
    "verify": "cniscrub/cluster-verify/v1",
}


def _nodes_json(plan: ClusterPlan) -> list[dict[str, Any]]:
    pods: dict[str, list[str]] = {}
    for pod in plan.state.pods:
        pods.setdefault(pod.node, []).append(pod.ref)
    return [
        {
            "name": n.name,
            "ready": n.ready,
            "reachable": n.reachable,
            "annotations": list(n.annotations),
            "condition": n.condition,
            "kept_condition": n.kept_condition,
            "agent_pods": pods.get(n.name, []),
        }
        for n in plan.state.nodes
    ]


def document(
    command: str,
    plan: ClusterPlan,
    exit_code: int,
    outcome: Outcome | None = None,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The JSON document of a cluster command."""
    state = plan.state
    doc: dict[str, Any] = {
        "schema": SCHEMAS[command],
        "cni": state.cni,
        "server": state.server,
        "objects": [
            {
                "kind": o.kind,
                "namespace": o.namespace,
                "name": o.name,
                "evidence": list(o.evidence),
            }
            for o in state.objects
        ],
        "agent_pods": [
            {
                "pod": p.ref,
                "node": p.node,
                "phase": p.phase,
                "terminating": p.terminating,
                "owner": p.owner,
            }
            for p in state.pods
        ],
        "nodes": _nodes_json(plan),
        "next_cni": [
            {"name": c.name, "object": c.object, "evidence": c.evidence}
            for c in state.next_cni
        ],
        "steps": [s.to_json() for s in plan.steps],
        "left_alone": plan.left_alone,
        "warnings": state.warnings,
        "exit_code": exit_code,
    }
    if outcome is not None:
        results = {r.id: r.to_json() for r in outcome.steps}
        for step in doc["steps"]:
            step["result"] = results.get(step["id"])
        doc["node_results"] = [r.to_json() for r in outcome.nodes]
        doc["waited_out"] = outcome.waited_out
        doc["clean"] = outcome.clean
    doc.update(extra or {})
    return doc


def print_json(doc: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(doc, sort_keys=True, default=str) + "\n")


def _console() -> Any:
    """stdout: the terminal's width, or wide enough for logs (nothing cut off)."""
    from rich.console import Console

    width = None if sys.stdout.isatty() else 200
    return Console(highlight=False, soft_wrap=True, width=width)


def print_plan(plan: ClusterPlan, title: str) -> None:
    """The plan as text: context, next CNI, ordered steps with evidence and calls."""
    out = _console()
    state = plan.state
    reachable = sum(1 for n in state.nodes if n.reachable)
    out.print(
        f"{title} in {state.server}: {len(state.objects)} object(s), "
        f"{len(state.pods)} agent pod(s), {len(state.nodes)} node(s) "
        f"({len(state.nodes) - reachable} unreachable)"
    )
    for cni in state.next_cni:
        out.print(f"next CNI: {cni.name} ({cni.object}: {cni.evidence})")
    if not state.next_cni:
        out.print("next CNI: none found")
    for step in plan.steps:
        out.print(f"{step.id:>3}. {step.kind:<10} {step.target}", markup=False)
        for why in step.why:
            out.print(f"       because {why}", markup=False)
        if step.kind != "run-jobs":
            for call in step.calls:
                out.print(f"       {call.line()}", markup=False)
    for kept in plan.left_alone:
        out.print(f"left alone: {kept['target']}: {kept['why']}", markup=False)
    for warning in state.warnings:
        out.print(f"warning: {warning}", markup=False)


def print_dry_run(plan: ClusterPlan) -> None:
    """Every request apply would send, in order, and every Job in full."""
    out = _console()
    for step in plan.steps:
        out.print(f"# step {step.id}: {step.kind} {step.target}", markup=False)
        if step.kind == "wait-pods":
            pods = ", ".join(f"{p['pod']} on {p['node']}" for p in step.data["pods"])
            out.print(f"WAIT until gone (GET pods, every 0.5 s): {pods}", markup=False)
        for call in step.calls:
            if step.kind == "run-jobs":
                out.print(f"{call.method} {call.url()}", markup=False)
                out.print(
                    "---\n" + yaml.safe_dump(call.body, sort_keys=False).rstrip(),
                    markup=False,
                )
            else:
                out.print(call.line(), markup=False)
        if step.kind == "run-jobs":
            out.print(
                "then per node: GET .../pods/<pod>/log (the report), "
                "DELETE .../jobs/<job>?propagationPolicy=Background",
                markup=False,
            )


def print_nodes(results: list[NodeResult], title: str) -> None:
    """One row per node: verdict, exit code, the report's counts, time, journal."""
    from rich.table import Table

    table = Table(title=title, title_justify="left")
    for column in ("node", "verdict", "exit", "counts", "seconds", "journal / message"):
        table.add_column(column)
    for r in results:
        counts = " ".join(f"{k}={v}" for k, v in r.counts.items() if v) or (
            "nothing to do" if r.counts else ""
        )
        table.add_row(
            r.node,
            r.verdict,
            "" if r.exit_code is None else str(r.exit_code),
            counts,
            "" if r.seconds is None else f"{r.seconds:.1f}",
            r.journal or r.message,
        )
    _console().print(table)
