"""Flannel on a cluster, per version: installed state (also after a reinstall over the
residue), pod traffic through ``flannel.1``, and the residue ``kubectl delete -f``
leaves (issues #4, #5). These per-version facts read best as Python; the stories on top
of them -- the cleaner removing exactly that residue and nothing foreign, a second run
changing nothing -- are scenario files (``reboot``, ``idempotence``, ``kube-router-swap``).

Every test establishes the state it needs on its version's cluster (install is
``kubectl apply -f``, idempotent; the residue tests delete Flannel themselves), so the
tests pass alone and in any order; the cluster is shared per version because none of
them destroys it. The versions are the manifest matrix (``--flannel-version`` restricts
it). Written against the provider protocols only.

Facts cited: flannel-footprint.md §2.2 (subnet.env keys), §2.3 (vxlan device, per-peer
neighbour/FDB/route), §2.4 (rule specs and comments), §2.6 (what each version removes on
SIGTERM), §2.7 (annotations and the FlannelIsUp condition), §7 (the residue checklist).
"""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from harness import checks, flannel_install
from harness.kube import kubectl, kubectl_json
from harness.providers.base import Cluster, Node
from harness.reproduce import Reproduction, cross_node_ping, start_pods
from harness.wait import until

pytestmark = [pytest.mark.scenarios]

# §2.6: v0.25-v0.26 delete their rules on SIGTERM but leave the empty chains
EMPTY_CHAINS_AFTER_STOP = {"v0.26.7"}
FOREIGN_RULES = """*filter
:KUBE-FORWARD - [0:0]
:DOCKER-USER - [0:0]
-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT
-A FORWARD -m comment --comment "kubernetes forwarding rules" -j KUBE-FORWARD
-A DOCKER-USER -j RETURN
COMMIT
*nat
:KUBE-POSTROUTING - [0:0]
-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING
-A KUBE-POSTROUTING -m mark --mark 0x4000/0x4000 -j MASQUERADE --random-fully
COMMIT
"""


FLANNEL_FILES = (
    "/etc/cni/net.d/10-flannel.conflist",
    "/opt/cni/bin/flannel",
    "/run/flannel/subnet.env",
)


@pytest.fixture(scope="module")
def version_cluster(cluster_factory_module, flannel_version: str) -> Cluster:  # type: ignore[no-untyped-def]
    """One cluster per Flannel version, with the foreign state a real node has
    (kube-proxy, docker, ssh rules); Flannel is installed by each test."""
    cluster: Cluster = cluster_factory_module(nodes=3)
    for node in cluster.nodes:
        node.exec(["iptables-restore", "--noflush", "-w"], input=FOREIGN_RULES)
    return cluster


@pytest.fixture
def installed(version_cluster: Cluster, flannel_version: str) -> tuple[Cluster, str]:
    """Flannel running on every node (installed again if a test removed it)."""
    manifest = flannel_install.manifest_path(flannel_version)
    flannel_install.install(version_cluster, manifest)
    return version_cluster, flannel_version


@pytest.fixture
def deleted(installed: tuple[Cluster, str]) -> tuple[Cluster, str]:
    """Flannel installed, then removed the documented way (``kubectl delete -f``):
    the residue every cleaner test starts from."""
    cluster, version = installed
    flannel_install.uninstall(cluster, flannel_install.manifest_path(version))
    for node in cluster.nodes:
        until(
            lambda n=node: "flanneld" not in checks.processes(n),
            timeout=30,
            what=f"flanneld gone on {node.name}",
        )
    return cluster, version


def test_installed_state_matches_the_facts(installed: tuple[Cluster, str]) -> None:
    cluster, _ = installed
    assert_installed_state(cluster)


def test_reinstall_over_the_residue_matches_the_facts(
    deleted: tuple[Cluster, str],
) -> None:
    """``kubectl apply -f`` again after ``kubectl delete -f``: the nodes keep
    subnet.env, flannel.1, the (v0.26: empty) chains and the FlannelIsUp condition
    (§2.6, §2.7), none of which may pass for the new agent's work."""
    cluster, version = deleted
    flannel_install.install(cluster, flannel_install.manifest_path(version))
    pods = kubectl_json(cluster, "get", "pods", "-n", "kube-flannel")["items"]
    started = {p["spec"]["nodeName"]: p["status"]["startTime"] for p in pods}
    for obj in kubectl_json(cluster, "get", "nodes")["items"]:
        cond = next(
            c for c in obj["status"]["conditions"] if c["type"] == "NetworkUnavailable"
        )  # posted by the new agent, not left by the old one (§2.7: set at start)
        since = started[obj["metadata"]["name"]]
        assert _time(cond["lastHeartbeatTime"]) >= _time(since), (cond, since)
    assert_installed_state(cluster)


def _time(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp)


def assert_installed_state(cluster: Cluster) -> None:
    """What a running Flannel set up. Once ``install`` returns, each node's agent has
    posted its condition, its last start-up step; its rules (set up in goroutines up to
    v0.27.3) and its per-peer entries (``bn.Run``) may land after that
    (real-flannel.md §3 start sequence, steps 9, 11, 13), so those are awaited."""
    for index, node in enumerate(cluster.nodes):
        assert_agent_state(node, index)
        until(
            lambda n=node: assert_async_state(cluster, n),
            timeout=60,
            what=f"Flannel's rules and peer entries on {node.name}",
        )
    for obj in kubectl_json(cluster, "get", "nodes")["items"]:
        ann = obj["metadata"]["annotations"]
        assert ann["flannel.alpha.coreos.com/backend-type"] == "vxlan"
        assert ann["flannel.alpha.coreos.com/kube-subnet-manager"] == "true"
        assert json.loads(ann["flannel.alpha.coreos.com/backend-data"])["VNI"] == 1
        cond = next(
            c for c in obj["status"]["conditions"] if c["type"] == "NetworkUnavailable"
        )
        assert (cond["status"], cond["reason"], cond["message"]) == (
            "False",
            "FlannelIsUp",
            "Flannel is running on this node",
        )


def assert_agent_state(node: Node, index: int) -> None:
    """What flanneld sets up before it posts its condition (steps 6, 10)."""
    env = node.read_file("/run/flannel/subnet.env").decode()
    assert env == (
        f"FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET=10.244.{index}.1/24\n"
        "FLANNEL_MTU=1450\nFLANNEL_IPMASQ=true\n"
    )
    vx = checks.link(node, "flannel.1")
    assert vx is not None
    info = vx["linkinfo"]["info_data"]
    assert (info["id"], info["port"], info["learning"], vx["mtu"]) == (
        1,
        8472,
        False,
        1450,
    )
    assert (
        f"10.244.{index}.0/32"
        in node.exec(["ip", "-br", "addr", "show", "flannel.1"]).stdout
    )
    assert "flanneld" in checks.processes(node)


def assert_async_state(cluster: Cluster, node: Node) -> bool:
    """Per-peer neighbour/FDB/route entries (§2.3) and the rules (§2.4)."""
    for i, peer in enumerate(cluster.nodes):
        if peer is node:
            continue
        assert any(
            line.startswith(f"10.244.{i}.0 lladdr") and "PERMANENT" in line
            for line in checks.neighbours(node, "flannel.1")
        )
        assert any(
            f"dst {peer.address} self permanent" in line
            for line in checks.fdb(node, "flannel.1")
        )
        assert f"10.244.{i}.0/24 via 10.244.{i}.0 onlink" in checks.routes(
            node, "flannel.1"
        )
    masq = checks.chain_rules(node, "nat", "FLANNEL-POSTRTG")
    assert masq is not None and len(masq) == 7, masq
    assert checks.chain_rules(node, "filter", "FLANNEL-FWD") == [
        "-N FLANNEL-FWD",
        '-A FLANNEL-FWD -s 10.244.0.0/16 -m comment --comment "flanneld forward" -j ACCEPT',
        '-A FLANNEL-FWD -d 10.244.0.0/16 -m comment --comment "flanneld forward" -j ACCEPT',
    ]
    return True


def test_pod_traffic_crosses_nodes_through_flannel_1(
    installed: tuple[Cluster, str],
) -> None:
    cluster, version = installed
    r = Reproduction(cluster, flannel_install.manifest_path(version), version, "")
    try:
        start_pods(r, per_worker=1)
        pods = kubectl_json(cluster, "get", "pods", "-l", "app=web")["items"]
        src, dst = pods[0], pods[1]
        assert src["spec"]["nodeName"] != dst["spec"]["nodeName"]
        node = cluster.node(src["spec"]["nodeName"])

        def tx() -> int:
            stats = json.loads(
                node.exec(["ip", "-s", "-j", "link", "show", "flannel.1"]).stdout
            )
            return int(stats[0]["stats64"]["tx"]["packets"])

        before = tx()
        checks.ping_from_pod(
            node, src["status"]["podIP"], dst["status"]["podIP"], count=3
        )
        assert tx() - before >= 3  # the echo requests left through the vxlan device
        cross_node_ping(r)  # raises unless two pods on two nodes reach each other
    finally:
        kubectl(
            cluster, "delete", "pods", "-l", "app=web", "--wait=true", "--timeout=60s"
        )


def test_residue_after_kubectl_delete_is_the_versions(
    deleted: tuple[Cluster, str],
) -> None:
    cluster, version = deleted
    for node in cluster.nodes:
        for path in FLANNEL_FILES:
            assert checks.exists(node, path), path
        assert checks.link(node, "flannel.1") is not None  # never removed (§2.6)
        masq = checks.chain_rules(node, "nat", "FLANNEL-POSTRTG")
        fwd = checks.chain_rules(node, "filter", "FLANNEL-FWD")
        if version in EMPTY_CHAINS_AFTER_STOP:
            assert masq == ["-N FLANNEL-POSTRTG"] and fwd == ["-N FLANNEL-FWD"]
            assert checks.rules_mentioning(node, "nat", "-j FLANNEL-POSTRTG") == []
        else:
            assert (
                masq is not None
                and len(masq) == 7
                and fwd is not None
                and len(fwd) == 3
            )
    for obj in kubectl_json(cluster, "get", "nodes")[
        "items"
    ]:  # cluster-side residue (§7)
        assert "flannel.alpha.coreos.com/backend-data" in obj["metadata"]["annotations"]
