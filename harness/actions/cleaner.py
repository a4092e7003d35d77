"""The shipped cleaner on nodes, the way production runs it (``Cluster.run_cleaner``:
inside the node in the sandbox, the Job from ``deploy/`` on kind), and ``cniscrub
cluster`` from the operator's machine against the API.

Scenario steps:

``cniscrub``            on the selected nodes, optionally SIGKILLed at action N
                        (``kill_at``: ``CNISCRUB_DEBUG_KILL_AT``, cniscrub/apply/executor.py)
``cniscrub_cluster``    ``cniscrub cluster ARGS`` against the cluster's kubeconfig
``interrupted_cleaner`` on one node, for every action index N of its plan: apply killed
                        at N, a re-run that must converge (exit 0, verified clean, the
                        baseline intact), then both journals restored (newest first),
                        which must give the node back exactly: the next index's set-up,
                        and a proof that restore is exact

Every node run is recorded in ``ctx.found["cniscrub"][node]`` (argv, rc, the ``--json``
document) for later expectations.

>>> wanted_rc({"rc": [0, 2]}), wanted_rc({})
([0, 2], [0])
"""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
from collections.abc import Mapping, Sequence
from typing import Any

from harness.actions.base import (
    ActionResult,
    NodeSelector,
    Run,
    on_nodes,
    select,
    timed,
)
from harness.actions.context import Action, Context, as_mapping, require
from harness.providers.base import Cluster, CommandError, Node
from harness.snapshot.diff import diff as diff_objects
from harness.snapshot.state import snapshot_node


def cniscrub(
    cluster: Cluster,
    args: Sequence[str],
    nodes: NodeSelector = "all",
    timeout: float = 300.0,
    env: Mapping[str, str] | None = None,
) -> ActionResult:
    """``cniscrub ARGS`` on every selected node at once (``env`` added to its
    environment, as a Job's container env)."""

    def one(node: Node) -> tuple[int, str, str]:
        try:
            r = cluster.run_cleaner(node, list(args), timeout=timeout, env=env)
        except (CommandError, subprocess.TimeoutExpired) as exc:
            return 124, "", f"cniscrub did not finish: {exc}"
        return r.rc, r.stdout, r.stderr

    chosen = select(cluster, nodes)
    return ActionResult(on_nodes(chosen, lambda n: timed(n.name, lambda: one(n))))


def cniscrub_cluster(
    cluster: Cluster, args: Sequence[str], timeout: float = 600.0
) -> ActionResult:
    """``cniscrub cluster ARGS`` once, from the operator's machine, against the
    cluster's API (its kubeconfig): the API objects, the node Jobs, the annotations."""
    from harness.providers.shipped_cleaner import local_command

    if cluster.kubeconfig is None:
        return ActionResult(failure=f"{cluster.name} has no API (no kubeconfig)")
    env = {**os.environ, "KUBECONFIG": str(cluster.kubeconfig)}

    def call() -> tuple[int, str, str]:
        argv = [*local_command(), *args]
        try:
            p = subprocess.run(
                argv, capture_output=True, text=True, env=env, timeout=timeout
            )
        except subprocess.TimeoutExpired:
            return 124, "", f"cniscrub {' '.join(args)} timed out after {timeout:.0f}s"
        return p.returncode, p.stdout, p.stderr

    return ActionResult(
        [timed("cluster", call, note="once, against the cluster's API")]
    )


# -- scenario steps ---------------------------------------------------------------

KILL_ENV = "CNISCRUB_DEBUG_KILL_AT"  # cniscrub/apply/executor.py
KILLED = (-signal.SIGKILL, 128 + signal.SIGKILL)  # direct child / through a shell
JOURNALS = "/var/lib/cniscrub/journal"
OWN_FILES = ("file /run/cniscrub.lock", "dir /var/lib/cniscrub")


def wanted_rc(spec: dict[str, Any]) -> list[int]:
    rc = spec.get("rc", 0)
    return [int(x) for x in rc] if isinstance(rc, list) else [int(rc)]


def document(text: str) -> dict[str, Any] | None:
    """The ``--json`` document of a run's stdout (its last line), or None."""
    lines = text.strip().splitlines()
    if not lines or not lines[-1].startswith("{"):
        return None
    try:
        doc: dict[str, Any] = json.loads(lines[-1])
    except ValueError:
        return None
    return doc


def _argv(spec: dict[str, Any]) -> list[str]:
    args = spec["args"]
    return shlex.split(args) if isinstance(args, str) else [str(a) for a in args]


def _record(ctx: Context, argv: list[str], runs: list[Run]) -> None:
    recorded = ctx.found.setdefault("cniscrub", {})
    for run in runs:
        recorded[run.where] = {"argv": argv, "rc": run.rc, "json": document(run.stdout)}


def run_cniscrub(ctx: Context, args: Any) -> None:
    spec = ctx.substitute(as_mapping(args, "args"))
    argv = _argv(spec)
    env = {KILL_ENV: str(spec["kill_at"])} if "kill_at" in spec else None
    wanted = list(KILLED) if env else wanted_rc(spec)
    result = cniscrub(ctx.cluster, argv, spec.get("nodes", "all"), env=env)
    _record(ctx, argv, result.runs)
    bad = [r for r in result.runs if r.rc not in wanted]
    if bad:
        raise AssertionError(
            f"cniscrub {shlex.join(argv)}:\n"
            + "\n".join(
                f"{r.where}: exit {r.rc} (wanted {wanted})\n{r.output}" for r in bad
            )
        )


def run_cluster(ctx: Context, args: Any) -> None:
    """``cniscrub cluster ARGS`` where the operator runs it, against the cluster."""
    spec = ctx.substitute(as_mapping(args, "args"))
    argv = _argv(spec)
    result = cniscrub_cluster(
        ctx.cluster, ["cluster", *argv], float(spec.get("timeout", 300))
    )
    run = result.runs[-1] if result.runs else None
    if run is None:
        require(result, "cniscrub cluster")
        return
    ctx.record(
        "cniscrub_cluster", {"argv": argv, "rc": run.rc, "json": document(run.stdout)}
    )
    if run.rc not in wanted_rc(spec):
        tail = "\n".join(run.output.splitlines()[-30:])
        raise AssertionError(
            f"cniscrub cluster {shlex.join(argv)}: exit {run.rc} "
            f"(wanted {wanted_rc(spec)})\n{tail}"
        )


def _one(
    ctx: Context, node: Node, argv: list[str], env: dict[str, str] | None = None
) -> Run:
    (run,) = cniscrub(ctx.cluster, argv, [node.name], env=env).runs
    _record(ctx, argv, [run])
    return run


def _journals(node: Node) -> set[str]:
    out = node.exec(["sh", "-c", f"ls -1 {JOURNALS} 2>/dev/null || true"]).stdout
    return set(out.split())


def without_own_files(objects: Mapping[str, str]) -> dict[str, str]:
    """A node's objects but the cleaner's own: its lock file, rewritten with the
    holder's pid by every run (``/run/cniscrub.lock``), is not node state it manages."""
    return {k: v for k, v in objects.items() if not k.startswith(OWN_FILES)}


def _state(node: Node) -> dict[str, str]:
    return without_own_files(snapshot_node(node).objects)


def run_interrupted(ctx: Context, args: Any) -> None:
    spec = as_mapping(args, "node")
    node = ctx.node(spec["node"])
    cni = spec.get("cni", "flannel")
    plan = document(_one(ctx, node, ["plan", "--cni", cni, "--json"]).stdout) or {}
    ids = [int(a["id"]) for a in plan.get("actions", [])]
    if not ids:
        raise AssertionError(f"nothing planned on {node.name}: no index to kill at")
    before = _state(node)
    apply = ["apply", "--cni", cni, "--yes", "--json"]
    for n in ids:
        known = _journals(node)
        killed = _one(ctx, node, apply, {KILL_ENV: str(n)})
        if killed.rc not in KILLED:
            raise AssertionError(f"kill at {n}: exit {killed.rc}\n{killed.output}")
        rerun = _one(ctx, node, apply)
        report = document(rerun.stdout) or {}
        if rerun.rc != 0 or not (report.get("verify") or {}).get("clean"):
            raise AssertionError(
                f"re-run after kill at {n}: exit {rerun.rc}\n{rerun.output}"
            )
        _baseline_kept(ctx, node, f"after the kill at {n} and the re-run")
        for journal in sorted(_journals(node) - known, reverse=True):
            res = _one(ctx, node, ["restore", f"{JOURNALS}/{journal}", "--yes"])
            if res.rc != 0:
                raise AssertionError(f"restore {journal} (kill at {n}): {res.output}")
        change = diff_objects(before, _state(node))
        if change:
            raise AssertionError(
                f"restore after the kill at {n} did not give the node back:\n{change.text()}"
            )
    ctx.record("interrupted_cleaner", {"node": node.name, "indexes": ids})


def _baseline_kept(ctx: Context, node: Node, when: str) -> None:
    from harness.actions.expect_node import baseline_losses

    lost = baseline_losses(ctx, node)
    if lost:
        raise AssertionError(f"{node.name} lost foreign objects {when}:\n{lost}")


CNISCRUB = Action("cniscrub", "cleaner", "the shipped cleaner on nodes", run_cniscrub)
CNISCRUB_CLUSTER = Action(
    "cniscrub_cluster", "cleaner", "cniscrub cluster against the API", run_cluster
)
INTERRUPTED_CLEANER = Action(
    "interrupted_cleaner",
    "cleaner",
    "SIGKILL the cleaner at every action index on one node; re-runs converge",
    run_interrupted,
)
