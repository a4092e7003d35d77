"""Pods get real CNI networking; DaemonSets run on every node and stop when deleted;
invalid configs and reboots behave as on a real node (issue #3 acceptance)."""

from __future__ import annotations

import json

import pytest

from harness.kube import kubectl, kubectl_json
from harness.providers.base import Cluster
from harness.wait import until
from tests.sandbox.controlplane.conftest import BRIDGE_CONFLIST

pytestmark = pytest.mark.sandbox


def _pod(name: str, node: str, **spec: object) -> str:
    return json.dumps(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "name": name,
                "namespace": "default",
                "labels": {"app": "probe"},
            },
            "spec": {
                "nodeName": node,
                "terminationGracePeriodSeconds": 2,
                "containers": [
                    {"name": "c", "image": "busybox:1.36", "command": ["sleep", "3600"]}
                ],
                **spec,
            },
        }
    )


def _running_ip(cluster: Cluster, name: str) -> str:
    def ip() -> str:
        st = kubectl_json(cluster, "get", "pod", name)["status"]
        return st.get("podIP", "") if st.get("phase") == "Running" else ""

    return until(ip, timeout=30, what=f"pod {name} Running with an IP")


def test_pods_get_ips_from_real_bridge_and_reach_each_other(
    cp_cluster: Cluster,
) -> None:
    node = cp_cluster.nodes[1]
    node.write_file(
        "/etc/cni/net.d/10-bridge.conflist", BRIDGE_CONFLIST % "10.244.1.0/24"
    )
    kubectl(cp_cluster, "apply", "-f", "-", input=_pod("a", node.name))
    kubectl(cp_cluster, "apply", "-f", "-", input=_pod("b", node.name))
    try:
        ip_a, ip_b = _running_ip(cp_cluster, "a"), _running_ip(cp_cluster, "b")
        assert (
            ip_a.startswith("10.244.1.")
            and ip_b.startswith("10.244.1.")
            and ip_a != ip_b
        )
        assert node.host.interface("cni0").exists
        # real packets from pod a's netns to pod b through cni0
        netns = [
            line.split()[0]
            for line in node.exec(["ip", "netns", "list"]).stdout.splitlines()
        ]
        sandbox = next(
            n
            for n in netns
            if node.exec(["ip", "-n", n, "-br", "addr"]).stdout.count(ip_a)
        )
        node.exec(
            ["ip", "netns", "exec", sandbox, "ping", "-c", "1", "-W", "2", ip_b],
            timeout=10,
        )
        assert node.host.file(f"/var/lib/cni/networks/cbr0/{ip_a}").exists
    finally:
        kubectl(cp_cluster, "delete", "pod", "a", "b", "--wait=true", "--timeout=30s")
    # CNI DEL released the addresses (host-local) and removed the result cache
    assert not node.host.file(f"/var/lib/cni/networks/cbr0/{ip_a}").exists
    assert node.exec(["ls", "-A", "/var/lib/cni/results"]).stdout == ""


def test_invalid_conflist_sorted_first_keeps_pod_pending(
    cp_cluster: Cluster,
) -> None:
    # containerd (go-cni) fails the whole load on an invalid file sorted first
    # fact: harness-anchors.md §5 "Which file a runtime uses"
    node = cp_cluster.nodes[2]
    node.write_file("/etc/cni/net.d/00-broken.conflist", "{not json")
    node.write_file(
        "/etc/cni/net.d/10-bridge.conflist", BRIDGE_CONFLIST % "10.244.2.0/24"
    )
    kubectl(cp_cluster, "apply", "-f", "-", input=_pod("stuck", node.name))
    try:

        def events() -> list[str]:
            items = kubectl_json(
                cp_cluster,
                "get",
                "events",
                "--field-selector",
                "involvedObject.name=stuck",
            )["items"]
            return [e["message"] for e in items]

        msgs = until(events, timeout=20, what="a kubelet event for the stuck pod")
        assert any("cni plugin not initialized" in m for m in msgs), msgs
        assert (
            kubectl_json(cp_cluster, "get", "pod", "stuck")["status"]["phase"]
            == "Pending"
        )
    finally:
        kubectl(cp_cluster, "delete", "pod", "stuck", "--wait=true", "--timeout=30s")
        node.exec(["rm", "-f", "/etc/cni/net.d/00-broken.conflist"])


def test_daemonset_runs_everywhere_and_stops_when_deleted(
    cp_cluster: Cluster,
) -> None:
    ds = {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {"name": "agent", "namespace": "default"},
        "spec": {
            "selector": {"matchLabels": {"app": "agent"}},
            "template": {
                "metadata": {"labels": {"app": "agent"}},
                "spec": {
                    "hostNetwork": True,
                    "terminationGracePeriodSeconds": 3,
                    "tolerations": [{"operator": "Exists", "effect": "NoSchedule"}],
                    "initContainers": [
                        {
                            "name": "init",
                            "image": "busybox",
                            "command": ["sh", "-c", "echo hi > /host-run/agent-init"],
                            "volumeMounts": [{"name": "run", "mountPath": "/host-run"}],
                        }
                    ],
                    "containers": [
                        {
                            "name": "main",
                            "image": "busybox",
                            "command": ["sleep", "4242"],
                        }
                    ],
                    "volumes": [
                        {
                            "name": "run",
                            "hostPath": {
                                "path": "/run/agent",
                                "type": "DirectoryOrCreate",
                            },
                        }
                    ],
                },
            },
        },
    }
    kubectl(cp_cluster, "apply", "-f", "-", input=json.dumps(ds))

    def all_running() -> bool:
        pods = kubectl_json(cp_cluster, "get", "pods", "-l", "app=agent")["items"]
        return len(pods) == len(cp_cluster.nodes) and all(
            p["status"].get("phase") == "Running" for p in pods
        )

    until(all_running, timeout=30, what="one running agent pod per node")
    for node in cp_cluster.nodes:
        until(
            lambda n=node: "sleep 4242" in n.exec(["ps", "-eo", "args"]).stdout,
            timeout=10,
            what=f"the agent process on {node.name}",
        )
        # the init container wrote through its hostPath volume, before the main one started
        assert node.read_file("/run/agent/agent-init") == b"hi\n"
        # its own mount point stayed private to the container
        assert not node.host.file("/host-run").exists
    kubectl(cp_cluster, "delete", "daemonset", "agent", "--wait=true", "--timeout=30s")
    until(
        lambda: (
            kubectl(
                cp_cluster, "get", "pods", "-l", "app=agent", "-o", "name"
            ).stdout.strip()
            == ""
        ),
        timeout=30,
        what="agent pods gone",
    )
    for node in cp_cluster.nodes:
        assert "sleep 4242" not in node.exec(["ps", "-eo", "args"]).stdout
        assert node.host.file(
            "/run/agent/agent-init"
        ).exists  # effects on the host stay


@pytest.mark.destructive
def test_pods_survive_reboot_and_get_a_new_sandbox(cluster_factory) -> None:  # type: ignore[no-untyped-def]
    cluster = cluster_factory(nodes=2)
    node = cluster.nodes[1]
    node.write_file(
        "/etc/cni/net.d/10-bridge.conflist", BRIDGE_CONFLIST % "10.244.1.0/24"
    )
    kubectl(cluster, "apply", "-f", "-", input=_pod("survivor", node.name))
    first = _running_ip(cluster, "survivor")
    uid = kubectl_json(cluster, "get", "pod", "survivor")["metadata"]["uid"]
    node.reboot()

    def recreated() -> bool:
        out = node.exec(["ip", "netns", "list"]).stdout
        return (
            bool(out.strip())
            and "sleep 3600" in node.exec(["ps", "-eo", "args"]).stdout
        )

    until(recreated, timeout=30, what="the pod's sandbox re-created after the reboot")
    pod = kubectl_json(cluster, "get", "pod", "survivor")
    assert pod["metadata"]["uid"] == uid  # the same Pod object
    assert _running_ip(cluster, "survivor").startswith("10.244.1.")
    assert first
