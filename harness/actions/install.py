"""Install a CNI the way users do -- ``kubectl apply -f MANIFEST`` -- and wait, bounded,
until every DaemonSet and Deployment of the manifest is ready and every node is Ready
(whatever the CNI: Flannel, kube-router, a user's own manifest); uninstall it with
``kubectl delete -f`` and wait until its agent is gone from the nodes.

Scenario steps ``install`` / ``uninstall``: ``flannel`` (the run's Flannel version,
``${flannel_version}``) and ``kube-router`` (the pinned fixture) use their install
modules, whose waits know each agent's own signs of life (:mod:`harness.flannel_install`,
:mod:`harness.kube_router_install`); ``{manifest: PATH}`` is any file.

>>> sorted(CNIS), CNIS["kube-router"].agent
(['flannel', 'kube-router'], 'kube-router')
"""

from __future__ import annotations

import importlib
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.actions.base import ActionResult, NodeSelector, select, timed
from harness.actions.context import Action, Context, as_mapping, require
from harness.actions.kubectl import kubectl
from harness.actions.nodes import gone_from
from harness.kube import manifest_workloads
from harness.kube_get import get_json
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
            obj = get_json(cluster, "get", kind.lower(), name, "-n", namespace)
            if not _rolled_out(obj):
                return False
        nodes = get_json(cluster, "get", "nodes")["items"]
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


def uninstall(
    cluster: Cluster,
    manifest: Path,
    agent: str | None = None,
    nodes: NodeSelector = "all",
    timeout: float = 60.0,
) -> ActionResult:
    """``kubectl delete -f MANIFEST``; with ``agent``, wait until no process of that
    name runs on the selected nodes (its SIGTERM handling done)."""
    result = kubectl(cluster, ["delete", "-f", str(manifest)])
    if not result.ok or agent is None:
        return result

    def gone() -> tuple[int, str, str]:
        try:
            for node in select(cluster, nodes):
                gone_from(node, agent, timeout)
        except WaitTimeout as exc:
            return 1, "", str(exc)
        return 0, f"{agent} gone\n", ""

    result.runs.append(timed("cluster", gone, note=f"waited for {agent} to stop"))
    return result


# -- scenario steps ---------------------------------------------------------------


@dataclass(frozen=True)
class Cni:
    """A CNI the scenarios install by name: its install module (``install(cluster,
    manifest, timeout)``), its agent's process name, the ${param} of its manifest."""

    name: str
    module: str
    agent: str
    manifest_param: str


CNIS = {
    "flannel": Cni(
        "flannel", "harness.flannel_install", "flanneld", "flannel_manifest"
    ),
    "kube-router": Cni(
        "kube-router",
        "harness.kube_router_install",
        "kube-router",
        "kube_router_manifest",
    ),
}


def _spec(ctx: Context, args: Any) -> tuple[Cni | None, Path, dict[str, Any]]:
    spec = ctx.substitute(as_mapping(args, "cni"))
    cni = CNIS[spec["cni"]] if "cni" in spec else None
    if "manifest" in spec:
        return cni, ctx.path(spec["manifest"]), spec
    if cni is None:
        raise ValueError("install/uninstall needs a cni or a manifest")
    if cni.manifest_param not in ctx.values():
        raise RuntimeError(f"no {cni.name} manifest fixture here")
    return cni, Path(ctx.values()[cni.manifest_param]), spec


def run_install(ctx: Context, args: Any) -> None:
    cni, manifest, spec = _spec(ctx, args)
    timeout = float(spec.get("timeout", 120))
    if cni is None or not spec.get("wait", True):
        require(
            install(
                ctx.cluster, manifest, wait=spec.get("wait", True), timeout=timeout
            ),
            "install",
        )
        return
    importlib.import_module(cni.module).install(ctx.cluster, manifest, timeout=timeout)
    ctx.record("installed", [*ctx.found.get("installed", []), cni.name])


def run_uninstall(ctx: Context, args: Any) -> None:
    """``kubectl delete -f``; then, unless ``wait_gone: false``, wait until the agent is
    gone from every running node."""
    cni, manifest, spec = _spec(ctx, args)
    agent = cni.agent if cni is not None and spec.get("wait_gone", True) else None
    stopped = set(ctx.found.get("stopped", []))
    running = [n.name for n in ctx.cluster.nodes if n.name not in stopped]
    require(uninstall(ctx.cluster, manifest, agent, running), "uninstall")


INSTALL = Action(
    "install", "install", "install a CNI and wait until it runs", run_install
)
UNINSTALL = Action(
    "uninstall", "install", "kubectl delete -f a CNI's manifest", run_uninstall
)
