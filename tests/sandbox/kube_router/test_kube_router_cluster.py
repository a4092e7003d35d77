"""kube-router installed with ``kubectl apply -f`` on a sandbox cluster: on clean
nodes, and over Flannel's leftovers (fact: kube-router-footprint.md §1, §2, §3.2,
§3.3; flannel-footprint.md §7 for what Flannel leaves)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from harness import baseline, checks, flannel_install, kube_router_install
from harness.kube import find_kubectl, kubectl, kubectl_json
from harness.providers.base import Cluster, Node
from harness.reproduce import Reproduction, cross_node_ping, start_pods
from harness.snapshot.diff import diff
from harness.snapshot.node import objects
from harness.wait import until

pytestmark = pytest.mark.sandbox
SHARED = {  # what may appear and is nobody's residue to remove
    "file /run/cniscrub.lock",  # the cleaner's own lock
    "file /run/xtables.lock",  # the kubelet's FileOrCreate, shared by iptables users
    "dir /var/lib/cni/results",  # libcni's result cache directory (every CNI)
}


@pytest.fixture
def fresh(cluster_factory: Any) -> Cluster:
    if find_kubectl() is None:
        pytest.skip("kubectl not found on PATH or $KUBECTL (scripts/bootstrap.sh)")
    cluster: Cluster = cluster_factory(nodes=3)
    return cluster


def routes(node: Node) -> list[str]:
    """``ip route show`` (main table) lines."""
    return [ln.strip() for ln in node.exec(["ip", "route", "show"]).stdout.splitlines()]


def pod_cidrs(cluster: Cluster) -> dict[str, str]:
    nodes = kubectl_json(cluster, "get", "nodes")["items"]
    return {n["metadata"]["name"]: n["spec"]["podCIDR"] for n in nodes}


def test_kube_router_on_a_clean_cluster(fresh: Cluster) -> None:
    baseline.apply(fresh.nodes)
    foreign_only = {n.name: objects(n) for n in fresh.nodes}
    kube_router_install.install(fresh)
    cidrs = pod_cidrs(fresh)
    for node in fresh.nodes:
        # §2.1: the conflist carries this node's CIDR; it is the only file
        conf = json.loads(node.read_file(kube_router_install.CONFLIST))
        ranges = conf["plugins"][0]["ipam"]["ranges"]
        assert ranges == [[{"subnet": cidrs[node.name]}]]
        assert node.exec(["ls", "/etc/cni/net.d"]).stdout.split() == [
            "10-kuberouter.conflist",
            "87-podman-bridge.conflist",  # the baseline's (foreign)
        ]
        # §2.3: a proto-17 route to each peer's CIDR via its node IP; rule to 77
        for peer in fresh.nodes:
            if peer is not node:
                want = f"{cidrs[peer.name]} via {peer.address} dev eth0 proto 17"
                until(lambda n=node, w=want: w in routes(n), timeout=30,
                      what=f"{want} on {node.name}")  # fmt: skip
        rules = node.exec(["ip", "rule"]).stdout
        assert f"32765:\tfrom {cidrs[node.name]} lookup 77" in rules
        # the pod's process is the image entrypoint, comm kube-router (§1)
        assert "kube-router" in checks.processes(node)
        assert checks.link(node, "kube-bridge") is not None
    r = Reproduction(fresh, kube_router_install.manifest_path(), "", "")
    start_pods(r)
    cross_node_ping(r)  # real packets between pods on two nodes over proto-17 routes
    kubectl(fresh, "delete", "pod", "-l", "app=web", "--wait=true", timeout=120)
    swap_back(fresh, foreign_only)


def swap_back(cluster: Cluster, foreign_only: dict[str, dict[str, str]]) -> None:
    """kube-router deleted the documented way, then the shipped cleaner on every node:
    nothing of kube-router is left, the foreign baseline is intact (§4: only its own
    --cleanup-config removes state, and not all of it)."""
    kube_router_install.uninstall(cluster)
    for node in cluster.nodes:
        until(lambda n=node: "kube-router" not in checks.processes(n), timeout=60,
              what=f"kube-router gone on {node.name}")  # fmt: skip
        assert routes_of_kube_router(node), "kubectl delete -f left no residue?"
        out = cluster.run_cleaner(
            node, ["apply", "--cni", "kube-router", "--yes", "--json"]
        )
        assert out.rc == 0, out.stdout + out.stderr
        assert json.loads(out.stdout)["verify"]["clean"] is True
        assert cluster.run_cleaner(node, ["verify", "--cni", "kube-router"]).rc == 0
        assert routes_of_kube_router(node) == []
        changes = diff(foreign_only[node.name], objects(node))
        assert changes.vanished == [] and changes.changed == [], changes.text()
        assert set(changes.appeared) <= SHARED, changes.text()


def routes_of_kube_router(node: Node) -> list[str]:
    return [r for r in routes(node) if "proto 17" in r]


def test_kube_router_over_flannel_leftovers(fresh: Cluster) -> None:
    # flannel-footprint.md §7: `kubectl delete -f` leaves the conflist, cni0, routes
    manifest = flannel_install.manifest_path("v0.27.3")
    flannel_install.install(fresh, manifest)
    r = Reproduction(fresh, manifest, "v0.27.3", "")
    start_pods(r, per_worker=1)
    flannel_install.uninstall(fresh, manifest)
    kube_router_install.install(fresh)
    cidrs = pod_cidrs(fresh)
    worker = next(n for n in fresh.nodes if n.role == "worker")
    # §3.3: the init container removed nothing; §3.2: Flannel's file sorts first
    assert worker.exec(["ls", "/etc/cni/net.d"]).stdout.split() == [
        "10-flannel.conflist",
        "10-kuberouter.conflist",
    ]
    # §3.3: kube-router's proto-17 routes replaced Flannel's for the same prefixes
    for other in (n for n in fresh.nodes if n is not worker):
        want = f"{cidrs[other.name]} via {other.address} dev eth0 proto 17"
        until(lambda w=want: w in routes(worker), timeout=30, what=want)
    assert not [ln for ln in checks.routes(worker, "flannel.1") if "10.244." in ln]
    # §3.3 before any reboot: a new pod still goes through Flannel's cbr0 onto cni0
    pod = {"apiVersion": "v1", "kind": "Pod",
           "metadata": {"name": "after-swap", "namespace": "default"},
           "spec": {"nodeName": worker.name, "terminationGracePeriodSeconds": 1,
                    "containers": [{"name": "c", "image": "busybox:1.36",
                                    "command": ["sleep", "infinity"]}]}}  # fmt: skip
    kubectl(fresh, "apply", "-f", "-", input=json.dumps(pod))

    def pod_ip() -> str:
        status = kubectl_json(fresh, "get", "pod", "after-swap")["status"]
        return str(status.get("podIP") or "")

    ip = until(pod_ip, timeout=60, what="the new pod's IP")
    leases = worker.exec(["ls", "/var/lib/cni/networks/cbr0"]).stdout.split()
    assert ip in leases
    assert not checks.exists(worker, f"/var/lib/cni/networks/mynet/{ip}")
    kube_bridge = checks.link(worker, "kube-bridge")
    assert kube_bridge is not None  # created by kube-router, still without pods
    addrs = worker.exec(["ip", "-br", "-4", "addr", "show", "kube-bridge"]).stdout
    assert cidrs[worker.name].rsplit(".", 1)[0] + ".1/" not in addrs
    kube_router_install.uninstall(fresh)
