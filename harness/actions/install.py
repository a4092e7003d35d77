"""Install a CNI the way users do -- ``kubectl apply -f MANIFEST`` -- and wait, bounded,
until every DaemonSet and Deployment of the manifest is ready and every node is Ready
(whatever the CNI: Flannel, kube-router, a user's own manifest)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from harness.actions.base import ActionResult, timed
from harness.actions.kubectl import kubectl
from harness.kube import kubectl_json, manifest_workloads
from harness.providers.base import Cluster
from harness.wait import WaitTimeout, until


def install(
    cluster: Cluster, manifest: Path, *, wait: bool = True, timeout: float = 120.0
) -> ActionResult:
    result = kubectl(cluster, ["apply", "-f", str(manifest)])
    if not result.ok or not wait:
        return result
    start = time.perf_counter()

    def ready() -> tuple[int, str, str]:
        try:
            wait_ready(cluster, manifest, timeout)
        except WaitTimeout as exc:
            return 1, "", str(exc)
        return 0, f"{manifest.name}: workloads ready, every node Ready\n", ""

    run = timed("cluster", ready, note=f"waited for {manifest.name}")
    run.seconds = time.perf_counter() - start
    result.runs.append(run)
    return result


def wait_ready(cluster: Cluster, manifest: Path, timeout: float = 120.0) -> None:
    workloads = manifest_workloads(manifest)

    def done() -> bool:
        for kind, namespace, name in workloads:
            obj = kubectl_json(cluster, "get", kind.lower(), name, "-n", namespace)
            if not _rolled_out(obj):
                return False
        nodes = kubectl_json(cluster, "get", "nodes")["items"]
        return bool(nodes) and all(_node_ready(n) for n in nodes)

    names = ", ".join(f"{k} {ns}/{n}" for k, ns, n in workloads)
    until(done, timeout=timeout, interval=0.2, what=f"{names or 'the manifest'} ready")


def _rolled_out(obj: dict[str, Any]) -> bool:
    status = obj.get("status") or {}
    if status.get("observedGeneration", 0) < obj["metadata"].get("generation", 0):
        return False
    if obj["kind"] == "DaemonSet":
        desired = status.get("desiredNumberScheduled", 0)
        return desired > 0 and status.get("numberReady", 0) == desired
    replicas = (obj.get("spec") or {}).get("replicas", 1)
    return status.get("readyReplicas", 0) == replicas


def _node_ready(node: dict[str, Any]) -> bool:
    return any(
        c["type"] == "Ready" and c["status"] == "True"
        for c in node["status"].get("conditions") or []
    )
