"""The cluster plan (pure): what the API holds of a CNI, turned into ordered steps, each
with its evidence and the exact requests it sends.

Order: the agent's workloads (DaemonSets) are deleted first, orphaned agent pods next,
then a wait until every agent pod is gone (pods on unreachable nodes cannot go; they
are reported); then the rest in dependency order (:mod:`cniscrub.cluster.kinds`), the
CNI's own namespace last and only when nothing else lives in it; then the node cleaner
as a Job on every reachable node; then each node's annotations and condition.

Never deleted: the namespaces every cluster needs, a namespace that holds objects of
others (listed), another CNI's condition.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cniscrub.cluster.jobs import build_job
from cniscrub.cluster.kinds import PROTECTED_NAMESPACES, kind
from cniscrub.cluster.model import (
    BACKGROUND,
    JSON_PATCH,
    MERGE_PATCH,
    ApiCall,
    ClusterPlan,
    ClusterState,
    Found,
    NodeState,
    Step,
)
from cniscrub.footprints.spec import FootprintSpec

__all__ = ["Options", "make_plan", "node_calls"]


@dataclass(frozen=True)
class Options:
    """How the node side runs: which cleaner command, image, Jobs' namespace."""

    command: str = "apply"
    image: str = ""
    namespace: str = "kube-system"
    run_id: str = ""
    timeout: float = 300.0


def _delete(found: Found) -> ApiCall:
    return ApiCall(
        "DELETE", kind(found.kind).path(found.namespace, found.name), BACKGROUND
    )


def node_calls(node: NodeState) -> tuple[ApiCall, ...]:
    """The requests that take the CNI's annotations and condition off a node: a merge
    patch nulling each annotation, and a JSON patch of ``nodes/status`` that removes
    the condition only if it still is the CNI's (``test`` ops first)."""
    path = kind("Node").path(None, node.name)
    calls = []
    if node.annotations:
        body = {"metadata": {"annotations": dict.fromkeys(node.annotations)}}
        calls.append(ApiCall("PATCH", path, body=body, content_type=MERGE_PATCH))
    if node.condition is not None and node.condition_index is not None:
        at = f"/status/conditions/{node.condition_index}"
        ops = [
            {"op": "test", "path": f"{at}/type", "value": node.condition["type"]},
            {"op": "test", "path": f"{at}/reason", "value": node.condition["reason"]},
            {"op": "remove", "path": at},
        ]
        calls.append(
            ApiCall("PATCH", f"{path}/status", body=ops, content_type=JSON_PATCH)
        )
    return tuple(calls)


class _Builder:
    def __init__(self, state: ClusterState, spec: FootprintSpec, opts: Options) -> None:
        self.plan = ClusterPlan(state)
        self.spec, self.opts = spec, opts

    def add(
        self,
        kind_: str,
        target: str,
        why: list[str] | tuple[str, ...],
        calls: tuple[ApiCall, ...] = (),
        data: dict[str, Any] | None = None,
    ) -> None:
        number = len(self.plan.steps) + 1
        self.plan.steps.append(
            Step(number, kind_, target, tuple(why), calls, data or {})
        )

    def keep(self, target: str, why: str) -> None:
        self.plan.left_alone.append({"target": target, "why": why})

    def objects(self, ranks: range) -> None:
        state = self.plan.state
        chosen = [o for o in state.objects if kind(o.kind).rank in ranks]
        for found in sorted(
            chosen, key=lambda o: (kind(o.kind).rank, o.namespace or "", o.name)
        ):
            if found.kind == "Namespace" and not self._namespace_goes(found):
                continue
            self.add("delete", found.ref, found.evidence, (_delete(found),))

    def _namespace_goes(self, ns: Found) -> bool:
        state = self.plan.state
        if ns.name in PROTECTED_NAMESPACES:
            self.keep(ns.ref, "every cluster needs this namespace")
            return False
        others = state.foreign.get(ns.name) or []
        if others:
            labels = state.namespace_labels.get(ns.name) or {}
            also = f"; its labels {labels} stay with it" if labels else ""
            self.keep(ns.ref, f"it also holds {', '.join(others)}{also}")
            return False
        return True

    def pods(self) -> None:
        state = self.plan.state
        deleted = {o.ref for o in state.objects if kind(o.kind).rank == 0}
        labels = ", ".join(self.spec.cluster.pod_labels) if self.spec.cluster else ""
        for pod in state.pods:
            if pod.owner in deleted or pod.terminating:
                continue
            why = [
                f"label {labels}: a pod of {self.spec.title}'s agent, no owner deleted"
            ]
            call = ApiCall("DELETE", kind("Pod").path(pod.namespace, pod.name))
            self.add("delete", f"Pod {pod.ref} on {pod.node}", why, (call,))
        if state.pods:
            nodes = sorted({p.node for p in state.pods})
            self.add(
                "wait-pods",
                f"{len(state.pods)} pod(s) of {self.spec.title}'s agent gone",
                [f"on {', '.join(nodes)}"],
                data={"pods": [{"pod": p.ref, "node": p.node} for p in state.pods]},
            )

    def jobs(self) -> None:
        plan, opts = self.plan, self.opts
        for node in plan.state.nodes:
            if node.reachable:
                plan.job_nodes.append(node.name)
            else:
                plan.unreachable.append(node.name)
                self.keep(
                    f"Node {node.name}",
                    f"unreachable (Ready={node.ready}: {node.ready_reason}); its node "
                    "cleaner runs on a re-run once it is back",
                )
        if not plan.job_nodes:
            return
        calls = []
        for name in plan.job_nodes:
            job = build_job(
                name,
                opts.command,
                plan.state.cni,
                image=opts.image,
                namespace=opts.namespace,
                run_id=opts.run_id,
                deadline=int(opts.timeout),
            )
            calls.append(ApiCall("POST", kind("Job").path(opts.namespace), body=job))
        self.add(
            "run-jobs",
            f"cniscrub {opts.command} on {len(plan.job_nodes)} node(s)",
            [f"one Job per node, image {opts.image}, in {opts.namespace}"],
            calls=tuple(calls),
            data={"nodes": list(plan.job_nodes)},
        )

    def nodes(self) -> None:
        for node in self.plan.state.nodes:
            why = [f"annotation {a}" for a in node.annotations]
            if node.condition is not None:
                c = node.condition
                why.append(
                    f"condition {c.get('type')}={c.get('status')} ({c.get('reason')})"
                )
            if node.kept_condition is not None:
                c = node.kept_condition
                self.keep(
                    f"Node {node.name} condition {c.get('type')}",
                    f"its reason {c.get('reason')} is not {self.spec.title}'s",
                )
            calls = node_calls(node)
            if calls:
                self.add(
                    "clean-node", f"Node {node.name}", why, calls, {"node": node.name}
                )


def make_plan(state: ClusterState, spec: FootprintSpec, opts: Options) -> ClusterPlan:
    """The ordered plan for ``state`` (see the module docstring)."""
    builder = _Builder(state, spec, opts)
    builder.objects(range(0, 1))
    builder.pods()
    builder.objects(range(2, 7))
    builder.jobs()
    builder.nodes()
    return builder.plan
