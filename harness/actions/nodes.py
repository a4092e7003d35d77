"""Node actions: a script run as root inside nodes (in parallel), and reboots (all at
once, or rolling: each node seen by the API again before the next goes down)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import UTC, datetime
from functools import partial

from harness.actions.base import (
    ActionResult,
    NodeSelector,
    Run,
    on_nodes,
    select,
    timed,
)
from harness.kube import kubectl_json
from harness.providers.base import Cluster, CommandError, Node, NodeNotRunning
from harness.wait import WaitTimeout, until


def run_on(node: Node, argv: Sequence[str], timeout: float, note: str = "") -> Run:
    """``argv`` inside ``node``; a timeout or a powered-off node is a failed run."""

    def call() -> tuple[int, str, str]:
        try:
            r = node.exec(argv, check=False, timeout=timeout)
        except CommandError as exc:  # timed out
            r = exc.result
            return 124, r.stdout, f"{r.stderr}\n{exc}".strip()
        except NodeNotRunning as exc:
            return 125, "", str(exc)
        return r.rc, r.stdout, r.stderr

    return timed(node.name, call, note)


def shell(
    cluster: Cluster, script: str, nodes: NodeSelector = "all", timeout: float = 120.0
) -> ActionResult:
    """``bash -c SCRIPT`` as root in every selected node at once."""
    chosen = select(cluster, nodes)
    return ActionResult(
        on_nodes(chosen, lambda n: run_on(n, ["bash", "-c", script], timeout))
    )


def reboot(
    cluster: Cluster,
    nodes: NodeSelector = "all",
    mode: str = "all-at-once",
    timeout: float = 90.0,
) -> ActionResult:
    """Reboot the selected nodes; return once each node's kubelet has posted its
    status again (it does after noticing a reboot), a rolling group at a time."""
    chosen = select(cluster, nodes)
    groups = [[n] for n in chosen] if mode == "rolling" else [chosen]
    runs: list[Run] = []
    for group in groups:
        since = _now()
        runs += [timed(n.name, partial(_reboot, n), f"reboot ({mode})") for n in group]
        start = time.perf_counter()
        try:
            until(
                partial(_heard_from, cluster, group, since),
                timeout=timeout,
                interval=0.2,
                what=f"the kubelet of {', '.join(n.name for n in group)} after the reboot",
            )
        except WaitTimeout as exc:
            runs[-1].rc, runs[-1].stderr = 1, str(exc)
            break
        finally:
            runs[-1].seconds += time.perf_counter() - start
    return ActionResult(runs)


def _reboot(node: Node) -> tuple[int, str, str]:
    node.reboot()
    return 0, "", ""


def _now() -> str:
    """Now, as the API writes heartbeat times (RFC 3339, second precision, UTC)."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _heard_from(cluster: Cluster, nodes: list[Node], since: str) -> bool:
    names = {n.name for n in nodes}
    fresh = set()
    for obj in kubectl_json(cluster, "get", "nodes")["items"]:
        for c in obj["status"].get("conditions") or []:
            if c["type"] == "Ready" and c.get("lastHeartbeatTime", "") >= since:
                fresh.add(obj["metadata"]["name"])
    return names <= fresh
