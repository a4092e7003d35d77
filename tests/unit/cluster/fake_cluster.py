"""An in-process cluster for ``cniscrub cluster`` unit tests: the API stand-in (with its
audit log) in a thread, Node objects, Flannel's manifest objects and agent pods, the
stand-in's Job controller, and a scripted "kubelet" that stops deleted pods after a
moment, runs each cleaner Job pod to the exit code and log the test chose for its
node, and never touches pods of a node marked down.

Facts: flannel-footprint.md §1.1 (the manifest's objects and labels), §2.7 (node
annotations, the NetworkUnavailable/FlannelIsUp condition).
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from harness.emulation.apiserver.audit import (
    AuditedStore,
    AuditLog,
    acting_as,
    kubelet,
    read_events,
)
from harness.emulation.apiserver.kubeconfig import write_kubeconfig
from harness.emulation.apiserver.threaded import ThreadedServer
from harness.emulation.controlplane.jobs import JobController
from harness.matrix import DEFAULT_FLANNEL_VERSION, manifest_path

ANNOTATIONS = {
    "flannel.alpha.coreos.com/backend-type": "vxlan",
    "flannel.alpha.coreos.com/backend-data": '{"VNI":1}',
    "flannel.alpha.coreos.com/public-ip": "198.18.0.11",
    "flannel.alpha.coreos.com/kube-subnet-manager": "true",
}
FLANNEL_UP = {
    "type": "NetworkUnavailable",
    "status": "False",
    "reason": "FlannelIsUp",
    "message": "Flannel is running on this node",
}


def manifest_docs() -> list[dict[str, Any]]:
    """The objects of the default Flannel manifest."""
    text = manifest_path(DEFAULT_FLANNEL_VERSION).read_text()
    return [d for d in yaml.safe_load_all(text) if d]


def apply_report(applied: int = 3, exit_code: int = 0) -> str:
    results = [
        {"action": i + 1, "status": "applied", "target": f"t{i}"}
        for i in range(applied)
    ]
    doc = {
        "schema": "cniscrub/apply/v1",
        "journal": "/host/var/lib/cniscrub/journal/x-1",
        "results": results,
        "verify": {"clean": exit_code == 0, "remaining": 0 if exit_code == 0 else 1},
        "exit_code": exit_code,
    }
    return "cniscrub: a message on stderr\n" + json.dumps(doc) + "\n"


@dataclass
class Script:
    """What the cleaner Job does on one node: exit code and log."""

    exit_code: int = 0
    log: str = field(default_factory=apply_report)
    seconds: float = 0.05


class FakeCluster:
    def __init__(
        self, tmp: Path, nodes: int = 3, docs: list[dict[str, Any]] | None = None
    ) -> None:
        self.docs = docs if docs is not None else manifest_docs()
        self.audit_path = tmp / "audit.log"
        self.server = ThreadedServer(
            store=AuditedStore(AuditLog(self.audit_path))
        ).start()
        self.kubeconfig = write_kubeconfig(tmp / "kubeconfig", self.server.url, "fake")
        self.nodes = ["n-control-plane"] + [f"n-worker{i}" for i in range(1, nodes)]
        self.scripts: dict[str, Script] = {n: Script() for n in self.nodes}
        self.down: set[str] = set()
        self.logs: dict[tuple[str, str, int], bytes] = {}
        self.jobs = JobController(self.server.store)
        self._stop = threading.Event()
        self._started: dict[str, float] = {}
        self.call(self._setup)
        self._thread = threading.Thread(target=self._kubelet_loop, daemon=True)
        self._thread.start()

    def call(self, func: Any, *args: Any, **kw: Any) -> Any:
        return self.server.call(func, *args, **kw)

    @property
    def store(self) -> AuditedStore:
        return self.server.store  # type: ignore[return-value]

    # -- set-up ------------------------------------------------------------------------
    def _setup(self) -> None:
        store = self.store
        for name in self.nodes:
            store.create(
                "nodes",
                {
                    "metadata": {
                        "name": name,
                        "annotations": dict(ANNOTATIONS),
                        "labels": {
                            "kubernetes.io/hostname": name,
                            "pool": "control" if "control" in name else "workers",
                        },
                    },
                    "status": {
                        "conditions": [
                            {
                                "type": "Ready",
                                "status": "True",
                                "reason": "KubeletReady",
                            },
                            dict(FLANNEL_UP),
                        ]
                    },
                },
            )
            store.register_kubelet(name)
        for name in self.nodes:
            store.pod_logs.register(name, self)
        for doc in self.docs:
            made = store.create(doc["kind"], doc, doc["metadata"].get("namespace"))
            if doc["kind"] == "DaemonSet":
                self._ds_pods(made)

    def _ds_pods(self, ds: dict[str, Any]) -> None:
        for node in self.nodes:
            self.store.create(
                "pods",
                {
                    "metadata": {
                        "name": f"{ds['metadata']['name']}-{node}",
                        "namespace": ds["metadata"]["namespace"],
                        "labels": {"app": "flannel", "tier": "node"},
                        "ownerReferences": [
                            {
                                "apiVersion": "apps/v1",
                                "kind": "DaemonSet",
                                "name": ds["metadata"]["name"],
                                "uid": ds["metadata"]["uid"],
                                "controller": True,
                            }
                        ],
                    },
                    "spec": {
                        "nodeName": node,
                        "containers": [{"name": "kube-flannel", "image": "flannel"}],
                    },
                },
            )

    # -- what a kubelet would do -----------------------------------------------------
    def read_container_log(
        self, pod: dict[str, Any], container: str, attempt: int
    ) -> bytes:
        return self.logs[(pod["metadata"]["name"], container, attempt)]

    def set_ready(self, node: str, status: str) -> None:
        def patch() -> None:
            cond = {"type": "Ready", "status": status, "reason": "NodeStatusUnknown"}
            self.store.patch(
                "nodes",
                node,
                {"status": {"conditions": [cond]}},
                "strategic",
                subresource="status",
            )

        self.call(patch)

    def _kubelet_loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.call(self._kubelet_pass)
            except Exception:  # the server is stopping
                return
            time.sleep(0.02)

    def _kubelet_pass(self) -> None:
        self.jobs.reconcile()
        now = time.monotonic()
        for pod in self.store.list("pods"):
            meta, node = pod["metadata"], pod["spec"].get("nodeName")
            if node in self.down:
                continue
            if meta.get("deletionTimestamp"):
                first = self._started.setdefault(meta["uid"], now)
                if now - first > 0.1:
                    with acting_as(kubelet(node)):
                        self.store.finalize_pod(meta["name"], meta["namespace"])
                continue
            if "batch.kubernetes.io/job-name" in (meta.get("labels") or {}):
                self._run_job_pod(pod, node, now)

    def _run_job_pod(self, pod: dict[str, Any], node: str, now: float) -> None:
        meta, status = pod["metadata"], pod.get("status") or {}
        if status.get("phase") in ("Succeeded", "Failed"):
            return
        image = pod["spec"]["containers"][0]["image"]
        if image.startswith("missing/"):
            state = {
                "waiting": {"reason": "ErrImagePull", "message": f"{image}: not found"}
            }
            self._status(pod, "Pending", state)
            return
        script = self.scripts[node]
        started = self._started.setdefault(meta["uid"], now)
        if now - started < script.seconds:
            self._status(pod, "Running", {"running": {}})
            return
        self.logs[(meta["name"], "cniscrub", 0)] = script.log.encode()
        phase = "Succeeded" if script.exit_code == 0 else "Failed"
        self._status(pod, phase, {"terminated": {"exitCode": script.exit_code}})

    def _status(self, pod: dict[str, Any], phase: str, state: dict[str, Any]) -> None:
        statuses = [{"name": "cniscrub", "restartCount": 0, "state": state}]
        body = {"status": {"phase": phase, "containerStatuses": statuses}}
        meta = pod["metadata"]
        self.store.patch(
            "pods", meta["name"], body, "merge", meta["namespace"], subresource="status"
        )

    # -- reading back ----------------------------------------------------------------
    def audit(self) -> list[dict[str, Any]]:
        return read_events(self.audit_path)

    def get(
        self, resource: str, name: str, namespace: str | None = None
    ) -> dict[str, Any]:
        return self.call(self.store.get, resource, name, namespace)  # type: ignore[no-any-return]

    def list(self, resource: str, namespace: str | None = None) -> list[dict[str, Any]]:
        return self.call(self.store.list, resource, namespace)  # type: ignore[no-any-return]

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(2)
        self.server.stop()
