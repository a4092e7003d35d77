"""The simulated underlay: a bridge in a fabric namespace, each node's ``eth0`` on it.

Addresses come from 198.18.0.0/15 (RFC 2544 benchmarking space, never routed on the
internet): the fabric bridge is 198.18.0.1 and node *i* is 198.18.0.10 + i. Nodes get a
default route via the bridge, as real nodes have one (flanneld picks its interface from
it); the fabric namespace has no uplink, so nothing ever leaves it. Nothing here touches
the host's own network namespace: every netlink socket is opened inside a namespace the
provider created (``/proc/<holder>/ns/net``).

>>> node_address(0), node_address(2)
('198.18.0.10', '198.18.0.12')
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from pyroute2 import IPRoute

UNDERLAY = ipaddress.ip_network("198.18.0.0/15")
GATEWAY = "198.18.0.1"
# The fabric bridge's own MAC, fixed: a bridge without one takes the lowest MAC of its
# ports and changes it whenever a port comes or goes. A node's reboot replaces its
# veth port, so the gateway's MAC changed under the other nodes, whose neighbour
# entry for 198.18.0.1 stayed REACHABLE with the old MAC: their SYNs to the API went
# nowhere until it went stale and was probed again (~30 s stalls after any reboot).
GATEWAY_MAC = "02:00:c6:12:00:01"  # locally administered; 198.18.0.1 in its tail
BRIDGE = "br0"
FIRST_NODE = ipaddress.ip_address("198.18.0.10")


@dataclass(frozen=True)
class Port:
    """One node to connect: its index, the holder pid (netns owner) and its address."""

    index: int
    holder_pid: int
    address: str


def node_address(index: int) -> str:
    addr = FIRST_NODE + index
    if addr not in UNDERLAY or addr == UNDERLAY.broadcast_address:
        raise ValueError(f"node index {index} is outside the underlay {UNDERLAY}")
    return str(addr)


def netns_path(pid: int) -> str:
    return f"/proc/{pid}/ns/net"


def setup_fabric(fabric_pid: int) -> None:
    with IPRoute(netns=netns_path(fabric_pid)) as ipr:
        ipr.link("set", index=ipr.link_lookup(ifname="lo")[0], state="up")
        ipr.link("add", ifname=BRIDGE, kind="bridge", address=GATEWAY_MAC)
        idx = ipr.link_lookup(ifname=BRIDGE)[0]
        ipr.addr("add", index=idx, address=GATEWAY, prefixlen=UNDERLAY.prefixlen)
        ipr.link("set", index=idx, state="up")


def connect(fabric_pid: int, ports: list[Port]) -> None:
    """Create a veth per node: ``vn<i>`` on the fabric bridge, ``eth0`` in the node."""
    with IPRoute(netns=netns_path(fabric_pid)) as fab:
        bridge = fab.link_lookup(ifname=BRIDGE)[0]
        for port in ports:
            name = f"vn{port.index}"
            for stale in fab.link_lookup(ifname=name):  # from a previous boot
                fab.link("del", index=stale)
            fab.link(
                "add",
                ifname=name,
                kind="veth",
                peer={"ifname": "eth0", "net_ns_pid": port.holder_pid},
            )
            idx = fab.link_lookup(ifname=name)[0]
            fab.link("set", index=idx, master=bridge, state="up")
    for port in ports:
        _configure_node_side(port)


def _configure_node_side(port: Port) -> None:
    with IPRoute(netns=netns_path(port.holder_pid)) as ipr:
        ipr.link("set", index=ipr.link_lookup(ifname="lo")[0], state="up")
        eth0 = ipr.link_lookup(ifname="eth0")[0]
        ipr.addr("add", index=eth0, address=port.address, prefixlen=UNDERLAY.prefixlen)
        ipr.link("set", index=eth0, state="up")
        ipr.route("add", dst="0.0.0.0/0", gateway=GATEWAY, oif=eth0)
