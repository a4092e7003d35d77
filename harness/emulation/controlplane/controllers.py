"""The DaemonSet controller and a minimal scheduler (test emulation).

DaemonSet: for every node the pod template can run on (nodeSelector, required node
affinity, taints vs tolerations) there is exactly one pod, owned by the DaemonSet; the
tolerations the real controller adds (not-ready, unreachable, network-unavailable for
hostNetwork pods, ...) are added too. Deleting the DaemonSet deletes its pods through
ownerReferences, and the kubelets stop them. Scheduler: a pod without ``nodeName`` goes
to the Ready node with the fewest pods whose taints it tolerates.
"""

from __future__ import annotations

import logging
import secrets
from typing import Any

from harness.emulation.apiserver.errors import ApiError
from harness.emulation.apiserver.store import Store
from harness.emulation.kubelet.podspec import tolerates

log = logging.getLogger(__name__)

DS_TOLERATIONS = [
    {
        "key": "node.kubernetes.io/not-ready",
        "operator": "Exists",
        "effect": "NoExecute",
    },
    {
        "key": "node.kubernetes.io/unreachable",
        "operator": "Exists",
        "effect": "NoExecute",
    },
    {
        "key": "node.kubernetes.io/disk-pressure",
        "operator": "Exists",
        "effect": "NoSchedule",
    },
    {
        "key": "node.kubernetes.io/memory-pressure",
        "operator": "Exists",
        "effect": "NoSchedule",
    },
    {
        "key": "node.kubernetes.io/pid-pressure",
        "operator": "Exists",
        "effect": "NoSchedule",
    },
    {
        "key": "node.kubernetes.io/unschedulable",
        "operator": "Exists",
        "effect": "NoSchedule",
    },
]
HOSTNET_TOLERATION = {
    "key": "node.kubernetes.io/network-unavailable",
    "operator": "Exists",
    "effect": "NoSchedule",
}


def _match_expr(labels: dict[str, str], expr: dict[str, Any]) -> bool:
    key, op, values = expr["key"], expr["operator"], expr.get("values") or []
    if op == "In":
        return labels.get(key) in values
    if op == "NotIn":
        return labels.get(key) not in values
    if op == "Exists":
        return key in labels
    if op == "DoesNotExist":
        return key not in labels
    return False


def fits(pod_spec: dict[str, Any], node: dict[str, Any]) -> bool:
    labels = node["metadata"].get("labels") or {}
    for k, v in (pod_spec.get("nodeSelector") or {}).items():
        if labels.get(k) != v:
            return False
    required = ((pod_spec.get("affinity") or {}).get("nodeAffinity") or {}).get(
        "requiredDuringSchedulingIgnoredDuringExecution"
    ) or {}
    terms = required.get("nodeSelectorTerms") or []
    if terms and not any(
        all(_match_expr(labels, e) for e in t.get("matchExpressions") or [])
        for t in terms
    ):
        return False
    for taint in (node.get("spec") or {}).get("taints") or []:
        if taint.get("effect") in ("NoSchedule", "NoExecute") and not tolerates(
            pod_spec.get("tolerations"), taint
        ):
            return False
    return True


def reconcile_daemonsets(store: Store) -> None:
    nodes = store.list("nodes")
    for ds in store.list("daemonsets"):
        try:
            _reconcile_one(store, ds, nodes)
        except ApiError as exc:  # e.g. its namespace is terminating: the next pass
            log.debug("daemonset %s: %s", ds["metadata"]["name"], exc)


def _reconcile_one(
    store: Store, ds: dict[str, Any], nodes: list[dict[str, Any]]
) -> None:
    meta = ds["metadata"]
    if meta.get("deletionTimestamp"):
        return
    template = ds["spec"]["template"]
    pods = [
        p
        for p in store.list("pods", meta["namespace"])
        if any(
            o.get("uid") == meta["uid"]
            for o in p["metadata"].get("ownerReferences") or []
        )
    ]
    by_node = {p["spec"].get("nodeName"): p for p in pods}
    wanted = [n for n in nodes if fits(template["spec"], n)]
    for node in wanted:
        if node["metadata"]["name"] not in by_node:
            store.create(
                "pods", _pod_for(ds, node["metadata"]["name"]), meta["namespace"]
            )
    wanted_names = {n["metadata"]["name"] for n in wanted}
    for name, pod in by_node.items():
        if name not in wanted_names and not pod["metadata"].get("deletionTimestamp"):
            store.delete("pods", pod["metadata"]["name"], meta["namespace"])
    ready = sum(1 for p in pods if _ready(p))
    status = {
        "desiredNumberScheduled": len(wanted),
        "currentNumberScheduled": len(by_node),
        "numberReady": ready,
        "numberAvailable": ready,
        "updatedNumberScheduled": len(by_node),
        "numberMisscheduled": 0,
        "observedGeneration": meta.get("generation", 1),
    }
    if ds.get("status") != {**(ds.get("status") or {}), **status}:
        store.patch(
            "daemonsets",
            meta["name"],
            {"status": status},
            "merge",
            meta["namespace"],
            subresource="status",
        )


def _ready(pod: dict[str, Any]) -> bool:
    return any(
        c.get("type") == "Ready" and c.get("status") == "True"
        for c in (pod.get("status") or {}).get("conditions") or []
    )


def _pod_for(ds: dict[str, Any], node: str) -> dict[str, Any]:
    meta, template = ds["metadata"], ds["spec"]["template"]
    spec = dict(template["spec"])
    tolerations = list(spec.get("tolerations") or []) + DS_TOLERATIONS
    if spec.get("hostNetwork"):
        tolerations.append(HOSTNET_TOLERATION)
    spec.update(nodeName=node, tolerations=tolerations)
    labels = dict(template.get("metadata", {}).get("labels") or {})
    labels["pod-template-generation"] = str(meta.get("generation", 1))
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": f"{meta['name']}-{secrets.token_hex(3)[:5]}",
            "namespace": meta["namespace"],
            "labels": labels,
            "annotations": dict(template.get("metadata", {}).get("annotations") or {}),
            "ownerReferences": [
                {
                    "apiVersion": "apps/v1",
                    "kind": "DaemonSet",
                    "name": meta["name"],
                    "uid": meta["uid"],
                    "controller": True,
                    "blockOwnerDeletion": True,
                }
            ],
        },
        "spec": spec,
    }


def schedule_pending(store: Store) -> None:
    nodes = [n for n in store.list("nodes") if _node_ready(n)]
    if not nodes:
        return
    load = {n["metadata"]["name"]: 0 for n in nodes}
    pods = store.list("pods")
    for p in pods:
        if p["spec"].get("nodeName") in load:
            load[p["spec"]["nodeName"]] += 1
    for p in pods:
        if p["spec"].get("nodeName") or p["metadata"].get("deletionTimestamp"):
            continue
        fitting = [n for n in nodes if fits(p["spec"], n)]
        if not fitting:
            continue
        target = min(
            fitting, key=lambda n: (load[n["metadata"]["name"]], n["metadata"]["name"])
        )
        name = target["metadata"]["name"]
        store.patch(
            "pods",
            p["metadata"]["name"],
            {"spec": {"nodeName": name}},
            "merge",
            p["metadata"]["namespace"],
        )
        load[name] += 1


def _node_ready(node: dict[str, Any]) -> bool:
    return any(
        c.get("type") == "Ready" and c.get("status") == "True"
        for c in (node.get("status") or {}).get("conditions") or []
    )
