"""Where the kube-router emulation reads Nodes and Pods from (test emulation).

:class:`KubeSource` lists them from the API with the official client, configured
in-cluster (the manifests pass no ``--kubeconfig``, kube-router-footprint.md §1), like
kube-router's informers; it only reads: nothing is written back to the Node (§2.6).
:class:`FileSource` reads a JSON state file ``{"nodes": [...], "pods": [...]}`` so the
agent runs in a light node without an API server.
"""

from __future__ import annotations

import json
from typing import Any, Protocol

from harness.emulation.kube_router.netpol import LocalPod

Obj = dict[str, Any]


class ClusterSource(Protocol):
    def nodes(self) -> list[Obj]: ...
    def pods_on(self, node_name: str) -> list[Obj]: ...


def local_pods(pods: list[Obj]) -> list[LocalPod]:
    """§2.4: local, non-hostNetwork, running pods with an IP, sorted."""
    out = []
    for pod in pods:
        status, spec = pod.get("status") or {}, pod.get("spec") or {}
        if spec.get("hostNetwork") or status.get("phase") != "Running":
            continue
        if status.get("podIP") and not (pod.get("metadata") or {}).get(
            "deletionTimestamp"
        ):
            meta = pod["metadata"]
            out.append(LocalPod(meta["namespace"], meta["name"], status["podIP"]))
    return sorted(out, key=lambda p: (p.namespace, p.name))


class KubeSource:
    """Nodes and this node's pods from the API."""

    def __init__(self, api: Any) -> None:
        from kubernetes import client

        self._api = api
        self._v1 = client.CoreV1Api(self._api)

    def _plain(self, items: list[Any]) -> list[Obj]:
        return [self._api.sanitize_for_serialization(i) for i in items]

    def nodes(self) -> list[Obj]:
        return self._plain(self._v1.list_node().items)

    def pods_on(self, node_name: str) -> list[Obj]:
        listing = self._v1.list_pod_for_all_namespaces(
            field_selector=f"spec.nodeName={node_name}"
        )
        return self._plain(listing.items)


class FileSource:
    """Nodes and pods from a JSON file, re-read on every call."""

    def __init__(self, path: str) -> None:
        self.path = path

    def _state(self) -> Obj:
        with open(self.path, encoding="utf-8") as f:
            data: Obj = json.load(f)
        return data

    def nodes(self) -> list[Obj]:
        return list(self._state().get("nodes", []))

    def pods_on(self, node_name: str) -> list[Obj]:
        return [
            p
            for p in self._state().get("pods", [])
            if (p.get("spec") or {}).get("nodeName") == node_name
        ]
