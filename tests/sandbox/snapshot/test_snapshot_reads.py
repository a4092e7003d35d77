"""The node snapshot's few-process reads see what separate reads see, on a real kernel.

A node's snapshot reads links, addresses, routes and neighbours with one ``ip -batch``
and sysctls, lease owners and the legacy-table checks with the shell's ``read``
(:data:`harness.snapshot.node.SCRIPT`): the same objects as one ``ip`` per object class
must come out, and a change to any of them must still show in a diff. A whole
cluster's nodes are read in parallel: the result is what reading them one by one gives.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from harness.providers.base import NodeNotRunning
from harness.providers.light import LightNode
from harness.snapshot import netlink
from harness.snapshot.diff import diff
from harness.snapshot.node import collect
from harness.snapshot.state import snapshot_cluster, snapshot_node

pytestmark = pytest.mark.sandbox
LEASE = "/var/lib/cni/networks/snaptest/10.244.5.2"
CONTAINER = "0123456789abcdef0123"
SETUP = """
set -e
ip link add br-t type bridge && ip link set br-t up
ip link add vx0 type vxlan id 1 dstport 8472 nolearning && ip link set vx0 up
ip addr add 10.244.5.1/24 dev br-t && ip -6 addr add fd00:5::1/64 dev br-t nodad
ip addr add 10.244.5.0/32 dev vx0
bridge fdb append 00:00:00:00:00:00 dev vx0 dst 198.18.9.9
ip neigh add 10.244.9.0 lladdr aa:bb:cc:dd:ee:09 dev vx0 nud permanent
ip route add 10.244.9.0/24 via 10.244.9.0 dev vx0 onlink
ip route add 10.244.7.0/24 dev br-t table 100
ip -6 route add fd00:9::/64 dev br-t
ip rule add from 10.244.5.0/24 table 100 pref 100
ip -6 rule add from fd00:5::/64 table 100 pref 100
iptables-nft -A FORWARD -s 10.244.0.0/16 -j ACCEPT
iptables-legacy -t nat -A POSTROUTING -s 10.244.0.0/16 -j RETURN
nft add table inet t && nft add chain inet t c
echo 1 > /proc/sys/net/ipv4/ip_forward
"""


@pytest.fixture
def node(tmp_path: Path) -> Iterator[LightNode]:
    light = LightNode.create(tmp_path / "n1")
    try:
        light.exec(["sh", "-c", SETUP])
        light.write_file("/etc/cni/net.d/10-t.conflist", '{"name": "t"}')
        light.write_file(LEASE, f"{CONTAINER}\neth0\n")
        yield light
    finally:
        light.destroy()


def separate_reads(node: LightNode) -> dict[str, str]:
    """Links, addresses, routes and neighbours read with one ``ip`` each."""

    def rows(*args: str) -> netlink.Rows:
        return netlink.parse_json(node.exec(["ip", "-j", *args]).stdout)

    out = netlink.link_objects(rows("-d", "link", "show"))
    out.update(netlink.address_objects(rows("addr", "show")))
    out.update(netlink.route_objects(rows("-4", "route", "show", "table", "all")))
    out.update(netlink.route_objects(rows("-6", "route", "show", "table", "all")))
    out.update(netlink.neighbour_objects(rows("neigh", "show", "nud", "permanent")))
    return out


NETLINK = ("link ", "address ", "route ", "neighbour ")


def test_one_ip_batch_sees_what_separate_reads_see(node: LightNode) -> None:
    snap = collect(node)
    batched = {k: v for k, v in snap.objects.items() if k.startswith(NETLINK)}
    assert batched == separate_reads(node)
    for name in (
        "link vx0 (vxlan)",
        "address fd00:5::1/64 on br-t",
        "route 10.244.9.0/24 via 10.244.9.0 dev vx0 onlink",
        "route table 100 10.244.7.0/24 dev br-t",
        "route fd00:9::/64 dev br-t",
        "neighbour 10.244.9.0 lladdr aa:bb:cc:dd:ee:09 on vx0",
        "fdb 00:00:00:00:00:00 dst 198.18.9.9 on vx0",
        "ip rule 100: from 10.244.5.0/24 lookup 100",
        "ip -6 rule 100: from fd00:5::/64 lookup 100",
        'rule "-A FORWARD -s 10.244.0.0/16 -j ACCEPT" (filter, nft)',
        'rule "-A POSTROUTING -s 10.244.0.0/16 -j RETURN" (nat, legacy)',
        "nft chain inet t c",
        "file /etc/cni/net.d/10-t.conflist",
    ):
        assert name in snap.objects, name
    assert snap.objects["sysctl net.ipv4.ip_forward"] == "1"
    assert snap.leases[LEASE] == CONTAINER


def test_a_changed_object_is_still_seen(node: LightNode) -> None:
    before = collect(node)
    node.exec(
        [
            "sh",
            "-c",
            "set -e; ip route del 10.244.9.0/24; ip -6 route add fd00:8::/64 dev br-t;"
            " ip neigh del 10.244.9.0 dev vx0; ip rule del pref 100;"
            " iptables-legacy -t nat -F POSTROUTING;"
            " echo 0 > /proc/sys/net/ipv4/ip_forward",
        ]
    )
    node.write_file(LEASE, "fedcba9876543210fedc\neth0\n")
    after = collect(node)
    d = diff(before.objects, after.objects)
    assert d.vanished == [
        "ip rule 100: from 10.244.5.0/24 lookup 100",
        "neighbour 10.244.9.0 lladdr aa:bb:cc:dd:ee:09 on vx0",
        "route 10.244.9.0/24 via 10.244.9.0 dev vx0 onlink",
        'rule "-A POSTROUTING -s 10.244.0.0/16 -j RETURN" (nat, legacy)',
    ]
    assert d.appeared == ["route fd00:8::/64 dev br-t"]
    assert d.changed == [f"file {LEASE}", "sysctl net.ipv4.ip_forward"]
    assert after.leases[LEASE] == "fedcba9876543210fedc"


class Nodes:
    """Just enough of a Cluster for ``snapshot_cluster``: nodes, no API."""

    kubeconfig = None

    def __init__(self, nodes: list[Any]) -> None:
        self.nodes = nodes


class PoweredOff:
    name = "off"

    def exec(self, *args: Any, **kwargs: Any) -> Any:
        raise NodeNotRunning("off")


def test_parallel_cluster_read_is_the_sequential_one(
    node: LightNode, tmp_path: Path
) -> None:
    other = LightNode.create(tmp_path / "n2")
    try:
        other.write_file("/etc/cni/net.d/99-other.conf", "{}")
        cluster: Any = Nodes([node, PoweredOff(), other])
        parallel = snapshot_cluster(cluster)
        sequential = {n.name: snapshot_node(n) for n in (node, other)}
    finally:
        other.destroy()
    assert list(parallel.nodes) == [node.name, other.name]
    for name, snap in sequential.items():
        assert parallel.nodes[name].objects == snap.objects
        assert parallel.nodes[name].leases == snap.leases
    assert "file /etc/cni/net.d/99-other.conf" in parallel.nodes[other.name].objects
    assert parallel.api is None and parallel.unreachable == {"off"}
