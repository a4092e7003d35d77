"""Waits a procedure uses between steps: pods gone, pods ready, nodes Ready (all, or
some of them Ready / not Ready), a pause. Each is bounded; a wait that runs out is a
failed action saying what it saw last.

Scenario step ``wait``: ``nodes_ready`` / ``nodes_not_ready`` (a node selector) or
``pods_gone: true`` (the scenario's workload pods), with ``timeout``.
"""

from __future__ import annotations

import time
from typing import Any

from harness.actions.base import ActionResult, NodeSelector, select, timed
from harness.actions.context import Action, Context, as_mapping, require
from harness.kube_get import get_json
from harness.providers.base import Cluster
from harness.wait import WaitTimeout, until


def _pods(
    cluster: Cluster, namespace: str, selector: str | None
) -> list[dict[str, Any]]:
    args = ["get", "pods", "-n", namespace]
    if selector:
        args += ["-l", selector]
    items: list[dict[str, Any]] = get_json(cluster, *args)["items"]
    return items


def _describe(pods: list[dict[str, Any]]) -> str:
    return (
        ", ".join(
            f"{p['metadata']['name']} ({p['status'].get('phase', '?')})" for p in pods
        )
        or "none"
    )


def _bounded(what: str, check: Any, seen: Any, timeout: float) -> ActionResult:
    def call() -> tuple[int, str, str]:
        try:
            until(check, timeout=timeout, interval=0.2, what=what)
        except WaitTimeout as exc:
            return 1, "", f"{exc}; last seen: {seen()}"
        return 0, f"{what}: done (seen: {seen()})\n", ""

    return ActionResult([timed("cluster", call, note=f"wait: {what}")])


def pods_gone(
    cluster: Cluster,
    namespace: str,
    selector: str | None = None,
    timeout: float = 120.0,
) -> ActionResult:
    return _bounded(
        f"pods {selector or 'all'} in {namespace} gone",
        lambda: not _pods(cluster, namespace, selector),
        lambda: _describe(_pods(cluster, namespace, selector)),
        timeout,
    )


def pods_ready(
    cluster: Cluster,
    namespace: str,
    selector: str | None = None,
    timeout: float = 120.0,
) -> ActionResult:
    def ready() -> bool:
        pods = _pods(cluster, namespace, selector)
        return bool(pods) and all(
            any(
                c["type"] == "Ready" and c["status"] == "True"
                for c in p["status"].get("conditions") or []
            )
            for p in pods
        )

    return _bounded(
        f"pods {selector or 'all'} in {namespace} Ready",
        ready,
        lambda: _describe(_pods(cluster, namespace, selector)),
        timeout,
    )


def _ready_states(cluster: Cluster) -> dict[str, str]:
    return {
        n["metadata"]["name"]: next(
            (
                c["status"]
                for c in n["status"].get("conditions") or []
                if c["type"] == "Ready"
            ),
            "?",
        )
        for n in get_json(cluster, "get", "nodes")["items"]
    }


def nodes_state(
    cluster: Cluster, nodes: NodeSelector, ready: bool, timeout: float = 120.0
) -> ActionResult:
    """The selected nodes' Ready condition becomes True (``ready``) or anything else:
    False, or Unknown once a powered-off node's grace period ran out."""
    names = {n.name for n in select(cluster, nodes)}

    def reached() -> bool:
        states = _ready_states(cluster)
        return all((states.get(n) == "True") == ready for n in names)

    return _bounded(
        f"{', '.join(sorted(names))} {'Ready' if ready else 'not Ready'}",
        reached,
        lambda: ", ".join(f"{k} Ready={v}" for k, v in _ready_states(cluster).items()),
        timeout,
    )


def nodes_ready(cluster: Cluster, timeout: float = 120.0) -> ActionResult:
    def states() -> dict[str, str]:
        return {
            n["metadata"]["name"]: next(
                (
                    c["status"]
                    for c in n["status"].get("conditions") or []
                    if c["type"] == "Ready"
                ),
                "?",
            )
            for n in get_json(cluster, "get", "nodes")["items"]
        }

    return _bounded(
        "every node Ready",
        lambda: all(s == "True" for s in states().values()),
        lambda: ", ".join(f"{k} Ready={v}" for k, v in states().items()),
        timeout,
    )


def seconds(cluster: Cluster, seconds: float) -> ActionResult:
    def pause() -> tuple[int, str, str]:
        time.sleep(seconds)
        return 0, "", ""

    return ActionResult([timed("cluster", pause, note=f"waited {seconds:g}s")])


def run_wait(ctx: Context, args: Any) -> None:
    spec = as_mapping(args, "nodes_ready")
    timeout = float(spec.pop("timeout", 120))
    (what, value), *_ = spec.items()
    if what == "pods_gone":
        from harness.actions.kubectl import WORKLOAD_LABEL

        result = pods_gone(ctx.cluster, "default", WORKLOAD_LABEL, timeout)
    else:
        result = nodes_state(ctx.cluster, value, what == "nodes_ready", timeout)
    require(result, f"wait {what}")


WAIT = Action("wait", "waits", "wait for nodes (not) Ready or pods gone", run_wait)
