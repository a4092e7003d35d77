"""``cniscrub-lab reproduce``: the famous Flannel sandbox error on a laptop.

The sequence the article and Flannel issue #2063 describe, on a sandbox cluster:
install Flannel with its manifest, start pods, remove Flannel with ``kubectl delete -f``,
reboot a node, and watch the kubelet's ``FailedCreatePodSandBox`` event::

    Failed to create pod sandbox: rpc error: code = Unknown desc = failed to setup
    network for sandbox "<id>": plugin type="flannel" failed (add): loadFlannelSubnetEnv
    failed: open /run/flannel/subnet.env: no such file or directory

Then it explains the cause from the node's own state (the leftover conflist still sorts
first, its plugin reads a file that lived in /run) and lists the residue the shipped
cleaner finds; with ``clean`` it removes it with ``cniscrub apply`` and verifies.
Each step is a small function; :class:`Reproduction` keeps what they found. Written
against the provider protocols only: the cleaner reaches a node through
``Cluster.run_cleaner``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness import checks
from harness.kube import kubectl
from harness.kube_get import get_json
from harness.providers.base import Cluster, Node
from harness.wait import until

CNI_CONF_SUFFIXES = (".conf", ".conflist", ".json")
Progress = Callable[[str], None]


@dataclass
class Reproduction:
    cluster: Cluster
    manifest: Path
    version: str
    runtime: str
    pods: list[str] = field(default_factory=list)
    rebooted: str = ""
    event: str = ""
    conf_files: list[str] = field(default_factory=list)
    first_conf: str = ""
    first_conf_plugins: list[str] = field(default_factory=list)
    plan: dict[str, Any] = field(default_factory=dict)  # the rebooted node's
    plans: dict[str, dict[str, Any]] = field(default_factory=dict)  # every node's
    cluster_residue: list[str] = field(default_factory=list)
    cleaned: dict[str, dict[str, Any]] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "cluster": self.cluster.name,
            "flannel_version": self.version,
            "runtime": self.runtime,
            "manifest": str(self.manifest),
            "pods": self.pods,
            "rebooted_node": self.rebooted,
            "event_message": self.event,
            "cni_conf_files": self.conf_files,
            "first_conf": self.first_conf,
            "first_conf_plugins": self.first_conf_plugins,
            "residue_plan": self.plan,
            "residue_plans": self.plans,
            "cluster_residue": self.cluster_residue,
            "cleaned": self.cleaned,
        }


def start_pods(r: Reproduction, per_worker: int = 2) -> None:
    workers = [n for n in r.cluster.nodes if n.role == "worker"] or list(
        r.cluster.nodes
    )
    for i in range(per_worker * len(workers)):
        name = f"web-{i + 1}"
        pod = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "name": name,
                "namespace": "default",
                "labels": {"app": "web"},
            },
            "spec": {
                "terminationGracePeriodSeconds": 1,
                "containers": [
                    {
                        "name": "web",
                        "image": "busybox:1.36",
                        "command": ["sleep", "infinity"],
                    }
                ],
            },
        }
        kubectl(r.cluster, "apply", "-f", "-", input=json.dumps(pod))
        r.pods.append(name)

    def running() -> bool:
        items = get_json(r.cluster, "get", "pods", "-l", "app=web")["items"]
        return len(items) == len(r.pods) and all(
            p["status"].get("podIP") and p["status"].get("phase") == "Running"
            for p in items
        )

    until(running, timeout=60, what="the web pods Running with IPs")


class PodsOnOneNode(AssertionError):
    """Cross-node traffic cannot be shown: the pods do not span two nodes."""


def cross_node_ping(r: Reproduction) -> tuple[str, str]:
    """Ping from a pod on one node to a pod on another; returns (src pod, dst pod).

    Raises :class:`PodsOnOneNode` when the pods do not span two nodes: "pods reach
    each other" must never pass without a packet crossing nodes."""
    items = get_json(r.cluster, "get", "pods", "-l", "app=web")["items"]
    by_node: dict[str, dict[str, Any]] = {}
    for p in items:
        by_node.setdefault(p["spec"]["nodeName"], p)
    if len(by_node) < 2:
        where = ", ".join(sorted(by_node)) or "no node"
        raise PodsOnOneNode(
            f"{len(items)} app=web pod(s) on {where}: cross-node traffic needs pods "
            "on two nodes (a cluster with at least two schedulable nodes)"
        )
    (src_node, src), (_, dst) = list(by_node.items())[:2]
    checks.ping_from_pod(
        r.cluster.node(src_node), src["status"]["podIP"], dst["status"]["podIP"]
    )
    return (src["metadata"]["name"], dst["metadata"]["name"])


def reboot_a_worker(r: Reproduction) -> Node:
    items = get_json(r.cluster, "get", "pods", "-l", "app=web")["items"]
    target = r.cluster.node(items[0]["spec"]["nodeName"])
    target.reboot()
    r.rebooted = target.name
    return target


def wait_for_sandbox_error(r: Reproduction, timeout: float = 60.0) -> str:
    on_node = {
        p["metadata"]["name"]
        for p in get_json(r.cluster, "get", "pods", "-l", "app=web")["items"]
        if p["spec"]["nodeName"] == r.rebooted
    }

    def event() -> str:
        items = get_json(
            r.cluster,
            "get",
            "events",
            "--field-selector",
            "reason=FailedCreatePodSandBox",
        )["items"]
        for e in items:
            if e["involvedObject"]["name"] in on_node:
                return str(e["message"])
        return ""

    r.event = until(
        event, timeout=timeout, interval=0.2, what="the FailedCreatePodSandBox event"
    )
    return r.event


def explain(r: Reproduction) -> None:
    node = r.cluster.node(r.rebooted)
    listing = node.exec(["ls", "-1", "/etc/cni/net.d"]).stdout.split()
    r.conf_files = sorted(f for f in listing if f.endswith(CNI_CONF_SUFFIXES))
    if r.conf_files:
        r.first_conf = r.conf_files[0]
        try:
            conf = json.loads(node.read_file(f"/etc/cni/net.d/{r.first_conf}"))
            plugins = conf.get("plugins") or [conf]
            r.first_conf_plugins = [str(p.get("type")) for p in plugins]
        except (ValueError, AttributeError):
            r.first_conf_plugins = ["<invalid JSON>"]


def cluster_residue(r: Reproduction) -> None:
    """What ``kubectl delete -f`` left in the API (fact: flannel-footprint.md §7)."""
    for node in get_json(r.cluster, "get", "nodes")["items"]:
        name = node["metadata"]["name"]
        prefix = "flannel.alpha.coreos.com/"
        keys = sorted(
            k for k in node["metadata"].get("annotations", {}) if k.startswith(prefix)
        )
        r.cluster_residue += [f"node/{name} annotation {k}" for k in keys]
        for cond in node["status"].get("conditions", []):
            if cond.get("reason") == "FlannelIsUp":
                r.cluster_residue.append(
                    f"node/{name} condition {cond['type']}=False/FlannelIsUp"
                )


def residue(r: Reproduction) -> None:
    """The shipped cleaner's plan on every node (the rebooted one kept only files)."""
    for node in r.cluster.nodes:
        out = r.cluster.run_cleaner(node, ["plan", "--cni", "flannel", "--json"])
        plan = json.loads(out.stdout)
        r.plans[node.name] = plan
        if node.name == r.rebooted:
            r.plan = plan


def clean(r: Reproduction, progress: Progress) -> None:
    for node in r.cluster.nodes:
        out = r.cluster.run_cleaner(
            node, ["apply", "--cni", "flannel", "--yes", "--json"]
        )
        verify = r.cluster.run_cleaner(node, ["verify", "--cni", "flannel"])
        data = (
            json.loads(out.stdout)
            if out.stdout.strip().startswith("{")
            else {"raw": out.stdout + out.stderr}
        )
        r.cleaned[node.name] = {
            "apply_rc": out.rc,
            "verify_rc": verify.rc,
            "report": data,
        }
        progress(
            f" {'✓' if out.rc == 0 and verify.rc == 0 else '✗'} cniscrub apply on {node.name}: "
            f"exit {out.rc}, verify exit {verify.rc}"
        )
