"""The shipped cleaner on nodes, the way production runs it (``Cluster.run_cleaner``:
inside the node in the sandbox, the Job from ``deploy/`` on kind)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Sequence

from harness.actions.base import ActionResult, NodeSelector, on_nodes, select, timed
from harness.providers.base import Cluster, CommandError, Node


def cniscrub(
    cluster: Cluster,
    args: Sequence[str],
    nodes: NodeSelector = "all",
    timeout: float = 300.0,
) -> ActionResult:
    """``cniscrub ARGS`` on every selected node at once."""

    def one(node: Node) -> tuple[int, str, str]:
        try:
            r = cluster.run_cleaner(node, list(args), timeout=timeout)
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
