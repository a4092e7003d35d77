"""Expectations about pods, answered by starting fresh probe pods (one pinned to each
node, so a NotReady node is tried too) and sending real traffic between them, and about
residue, answered by the shipped cleaner's ``verify``.

A probe that does not get a sandbox reports the runtime's exact message from the
kubelet's event (``FailedCreatePodSandBox``, ``NetworkNotReady``).
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from typing import Any

from harness import checks
from harness.actions.base import ActionResult, NodeSelector, select, timed
from harness.actions.cleaner import cniscrub
from harness.kube import kubectl
from harness.kube_get import get_json
from harness.providers.base import Cluster, Node
from harness.wait import WaitTimeout, until

PROBE_LABEL = "cniscrub.io/probe"
IMAGE = "busybox:1.36"
SANDBOX_REASONS = ("FailedCreatePodSandBox", "NetworkNotReady")


@dataclass
class Probe:
    pod: str
    node: str
    run_id: str = ""
    phase: str = "Pending"
    ip: str = ""
    message: str = ""

    @property
    def running(self) -> bool:
        return self.phase == "Running" and bool(self.ip)

    def as_text(self) -> str:
        if self.running:
            return f"{self.node}: {self.pod} Running with {self.ip}"
        return (
            f"{self.node}: {self.pod} {self.phase}: {self.message or 'no sandbox yet'}"
        )


def _manifest(name: str, node: str, run_id: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "namespace": "default",
            "labels": {PROBE_LABEL: run_id},
        },
        "spec": {
            "nodeName": node,
            "terminationGracePeriodSeconds": 0,
            "tolerations": [{"operator": "Exists"}],
            "containers": [
                {"name": "probe", "image": IMAGE, "command": ["sleep", "3600"]}
            ],
        },
    }


def probe_manifests(probes: list[Probe]) -> str:
    """The probes' pods for ``kubectl apply -f -``: a stream of JSON objects, never
    PyYAML's dump. kubectl reads YAML 1.2, where a hex run id such as ``695e12``
    (which PyYAML, a YAML 1.1 writer, leaves unquoted) is a number, and the label
    is refused."""
    return "\n".join(json.dumps(_manifest(p.pod, p.node, p.run_id)) for p in probes)


def start_probes(
    cluster: Cluster, nodes: list[Node], timeout: float = 30.0
) -> list[Probe]:
    """A probe pod on each of ``nodes``; returns once each has an address or a sandbox
    event, or ``timeout`` passed (each probe then says where it stands)."""
    run_id = secrets.token_hex(3)
    probes = [Probe(f"probe-{run_id}-{n.name}", n.name, run_id) for n in nodes]
    kubectl(cluster, "apply", "-f", "-", input=probe_manifests(probes))
    try:
        until(
            lambda: _settled(cluster, probes),
            timeout=timeout,
            interval=0.2,
            what="probes",
        )
    except WaitTimeout:
        pass
    return probes


def delete_probes(cluster: Cluster, probes: list[Probe]) -> None:
    for run_id in {p.run_id for p in probes}:
        selector = f"{PROBE_LABEL}={run_id}"
        kubectl(cluster, "delete", "pods", "-l", selector, "--wait=false", check=False)


def probe_pods(
    cluster: Cluster, nodes: NodeSelector = "all", timeout: float = 30.0
) -> list[Probe]:
    """How a new pod fares on every selected node (the probes are deleted after)."""
    probes = start_probes(cluster, select(cluster, nodes), timeout)
    delete_probes(cluster, probes)
    return probes


def _settled(cluster: Cluster, probes: list[Probe]) -> bool:
    pods = {
        p["metadata"]["name"]: p
        for p in get_json(cluster, "get", "pods", "-l", PROBE_LABEL)["items"]
    }
    events = get_json(cluster, "get", "events", "-n", "default")["items"]
    for probe in probes:
        pod = pods.get(probe.pod) or {}
        status = pod.get("status") or {}
        probe.phase, probe.ip = status.get("phase", "Pending"), status.get("podIP", "")
        failed = [
            e
            for e in events
            if e["involvedObject"]["name"] == probe.pod
            and e.get("reason") in SANDBOX_REASONS
        ]
        if failed:
            probe.message = str(failed[-1]["message"])
    return all(p.running or p.message for p in probes)


def pods_running(
    cluster: Cluster, timeout: float = 30.0
) -> tuple[ActionResult, list[Probe]]:
    """New pods get a sandbox and an address on every node."""
    probes: list[Probe] = []

    def call() -> tuple[int, str, str]:
        probes.extend(probe_pods(cluster, "all", timeout))
        text = "\n".join(p.as_text() for p in probes) + "\n"
        return (0, text, "") if all(p.running for p in probes) else (1, "", text)

    return ActionResult(
        [timed("cluster", call, note="probe pods on every node")]
    ), probes


def cross_node_traffic(cluster: Cluster, timeout: float = 30.0) -> ActionResult:
    """A new pod on one node reaches a new pod on another (real ICMP), within
    ``timeout``: a CNI that just came up may still be setting up its routes."""

    def call() -> tuple[int, str, str]:
        workers_first = sorted(cluster.nodes, key=lambda n: n.role != "worker")
        probes = start_probes(cluster, workers_first[:2], timeout)
        try:
            running = [p for p in probes if p.running]
            if len(running) < 2:
                states = "; ".join(p.as_text() for p in probes)
                return 1, "", f"fewer than two probe pods running: {states}"
            return _ping(cluster, running[0], running[1], timeout)
        finally:
            delete_probes(cluster, probes)

    return ActionResult([timed("cluster", call, note="probe pods, ping across nodes")])


def _ping(
    cluster: Cluster, src: Probe, dst: Probe, timeout: float
) -> tuple[int, str, str]:
    node = cluster.node(src.node)
    what = f"{src.pod} ({src.node}) -> {dst.pod} ({dst.node}) {dst.ip}"

    def reached() -> bool:
        checks.ping_from_pod(node, src.ip, dst.ip)
        return True

    try:
        until(
            reached,
            timeout=timeout,
            interval=0.5,
            what=what,
        )
    except WaitTimeout as exc:
        return 1, "", str(exc)
    return 0, f"{src.pod} on {src.node} reached {dst.ip} on {dst.node}\n", ""


def no_residue(cluster: Cluster, cni: str, nodes: NodeSelector = "all") -> ActionResult:
    """``cniscrub verify --cni CNI`` on every node: exit 0 means none of it is left."""
    return cniscrub(cluster, ["verify", "--cni", cni], nodes)
