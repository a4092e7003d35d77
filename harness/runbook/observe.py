"""What the validation watches between steps: a snapshot of every node and of the API
(:mod:`harness.snapshot`), which objects running pods hold, and the pod events the
kubelets reported since the last look (with the runtime's exact messages).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from harness.kube import api_get
from harness.kube_get import get_json
from harness.providers.base import Cluster
from harness.runbook.classify import Delta, classify
from harness.runbook.result import CLUSTER, PodEvent
from harness.snapshot import cluster as cluster_snapshot
from harness.snapshot import node as node_snapshot
from harness.snapshot.pods import held_by_pods

Picture = dict[str, dict[str, str]]  # subject (node name or CLUSTER) -> objects


@dataclass
class Look:
    """One look at the cluster: every subject's objects and what pods hold."""

    objects: Picture
    held: dict[str, set[str]] = field(default_factory=dict)


@dataclass
class Observer:
    cluster: Cluster
    seconds: float = 0.0  # time spent snapshotting
    _events: dict[str, int] = field(default_factory=dict)  # event uid -> count seen
    _owners: dict[str, dict[str, str]] = field(default_factory=dict)  # node -> id -> IP

    def look(self) -> Look:
        start = time.perf_counter()
        nodes = list(self.cluster.nodes)
        with ThreadPoolExecutor(max_workers=len(nodes) + 1) as pool:
            api = pool.submit(cluster_snapshot.collect, self.cluster)
            pods = pool.submit(pod_ips, self.cluster)
            snaps = list(pool.map(node_snapshot.collect, nodes))
            objects: Picture = {s.node: s.objects for s in snaps}
            objects[CLUSTER] = api.result()
            ips = pods.result()
        held = {
            s.node: held_by_pods(
                s, ips.get(s.node, set()), self._owners.setdefault(s.node, {})
            )
            for s in snaps
        }
        self.seconds += time.perf_counter() - start
        return Look(objects, held)

    def events(self) -> list[PodEvent]:
        """Pod events that are new (or repeated) since the last call."""
        out = []
        for e in api_get(self.cluster, "/api/v1/events")["items"]:
            obj = e.get("involvedObject") or {}
            if obj.get("kind") != "Pod" or e.get("type") != "Warning":
                continue
            uid, count = e["metadata"]["uid"], int(e.get("count") or 1)
            if self._events.get(uid) == count:
                continue
            new = count - self._events.get(uid, 0)
            self._events[uid] = count
            source = (e.get("source") or {}).get("host", "")
            out.append(
                PodEvent(
                    pod=f"{obj.get('namespace', 'default')}/{obj.get('name')}",
                    node=source,
                    type=e["type"],
                    reason=e.get("reason", ""),
                    message=e.get("message", ""),
                    count=max(new, 1),
                )
            )
        return out


def pod_ips(cluster: Cluster) -> dict[str, set[str]]:
    """node -> addresses of the pods on it that still have a sandbox address."""
    out: dict[str, set[str]] = {}
    for pod in api_get(cluster, "/api/v1/pods")["items"]:
        spec, status = pod.get("spec") or {}, pod.get("status") or {}
        if spec.get("hostNetwork") or not status.get("podIP"):
            continue
        out.setdefault(spec.get("nodeName", ""), set()).add(status["podIP"])
    return out


def deltas(baseline: Look, installed: Look, now: Look) -> dict[str, Delta]:
    """Every subject's delta against B and F (:func:`classify`)."""
    return {
        subject: classify(
            baseline.objects.get(subject, {}),
            installed.objects[subject],
            now.objects.get(subject, {}),
            now.held.get(subject, set()),
        )
        for subject in installed.objects
    }


def owned_counts(baseline: Look, installed: Look) -> dict[str, int]:
    return {
        s: len(set(objs) - set(baseline.objects.get(s, {})))
        for s, objs in installed.objects.items()
    }


def workload_pods(cluster: Cluster, selector: str) -> Sequence[dict[str, Any]]:
    items: list[dict[str, Any]] = get_json(
        cluster, "get", "pods", "-A", "-l", selector
    )["items"]
    return items
