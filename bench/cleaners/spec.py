"""Deterministic plan of a node with Flannel v0.27 vxlan residue (pure).

``plan_node(size)`` returns the netlink batch lines, FDB lines, pods, iptables
rules and files to create, and the ground-truth manifest: for each kind of
object the set of Flannel identities and the set of foreign identities.
Identities are tuples of strings, the same normal form ``census`` observes:

- link ``(name, kind)``; address ``(ifname, "ip/len")``
- route ``(table, "dst/len", gateway or "", ifname)`` (IPv4, not the local table)
- neighbour ``(ifname, ip, lladdr)``; fdb ``(ifname, mac, dst)``
- chain ``(table, chain)``; rule ``(table, "-A CHAIN ...")``
- file ``(relpath, sha256)``; directories end with "/" and have digest "dir"

Peers get 10.244.K.0/24 while they fit in the /16 (N <= 255); with more peers
every peer gets a /26 from 10.244.1.0 upwards (the node keeps 10.244.0.0/24).
"""

from __future__ import annotations

import hashlib
import ipaddress
from dataclasses import dataclass, field

from . import files as files_mod
from . import rules as rules_mod

Identity = tuple[str, ...]
Objects = dict[str, set[Identity]]
KINDS = ("link", "address", "route", "neighbour", "fdb", "chain", "rule", "file")
MAIN = "254"
NODE_IP = "198.18.0.2"


@dataclass(frozen=True)
class Size:
    """How big the generated node is."""

    name: str
    peers: int
    pods: int
    foreign_rules: int


SIZES = {
    "small": Size("small", 10, 5, 50),
    "medium": Size("medium", 200, 50, 2000),
    "large": Size("large", 1000, 110, 10000),
}


@dataclass(frozen=True)
class Pod:
    """One pod sandbox: veth host end on cni0, peer ``eth0`` in its own netns."""

    index: int
    container_id: str
    veth: str
    ip: str


@dataclass
class NodeSpec:
    """Everything the builder creates, and which objects belong to whom."""

    size: Size
    ip_batch: list[str]
    fdb_batch: list[str]
    pods: list[Pod]
    restore_text: str
    files: dict[str, tuple[bytes, int]]  # relpath -> (content, mode); "x/" = dir
    flannel: Objects = field(default_factory=dict)
    foreign: Objects = field(default_factory=dict)

    def total(self, owner: str) -> int:
        """Number of objects of ``owner`` ("flannel" or "foreign")."""
        return sum(len(v) for v in getattr(self, owner).values())


def peer(k: int, peers: int) -> tuple[str, int, str, str]:
    """Peer ``k`` (0-based): (subnet address, prefix length, underlay IP, VtepMAC)."""
    if peers <= 255:
        net = ipaddress.IPv4Network(f"10.244.{k + 1}.0/24")
    else:
        base = ipaddress.IPv4Address("10.244.1.0") + 64 * k
        net = ipaddress.IPv4Network(f"{base}/26")
    if net.broadcast_address not in ipaddress.IPv4Network(rules_mod.NETWORK):
        raise ValueError(f"too many peers for {rules_mod.NETWORK}: {peers}")
    underlay = ipaddress.IPv4Address("198.18.1.0") + k
    mac = f"0e:f1:{(k >> 16) & 255:02x}:{(k >> 8) & 255:02x}:{k & 255:02x}:01"
    return str(net.network_address), net.prefixlen, str(underlay), mac


def make_pod(i: int) -> Pod:
    """Pod ``i`` (0-based) with a deterministic container id and veth name."""
    cid = hashlib.sha256(f"container-{i}".encode()).hexdigest()
    veth = "veth" + hashlib.sha256(f"veth-{i}".encode()).hexdigest()[:8]
    return Pod(i, cid, veth, f"10.244.0.{i + 2}")


def _netlink(size: Size) -> tuple[list[str], list[str], Objects, Objects]:
    """Netlink batch lines, FDB lines, and (flannel, foreign) identities."""
    fl: Objects = {k: set() for k in KINDS}
    fo: Objects = {k: set() for k in KINDS}
    ip = [
        "link set lo up",
        "link add eth0 address 02:00:c6:12:00:02 type veth peer name uplink0",
        f"addr add {NODE_IP}/15 dev eth0",
        "link set uplink0 up",
        "link set eth0 up",
        "neigh add 198.18.0.1 lladdr 02:00:c6:12:00:01 dev eth0 nud permanent",
        "link add br-user address 02:00:c6:13:c8:01 type bridge",
        "addr add 198.19.200.1/24 dev br-user",
        "link set br-user up",
        "route add 198.19.201.0/24 via 198.19.200.254 dev br-user",
        "link add vx-user address 02:00:c6:13:c9:01 type vxlan id 4242"
        f" local {NODE_IP} dev eth0 dstport 4789 nolearning",
        "link set vx-user up",
        "link add flannel.1 address 02:00:0a:f4:00:00 mtu 1450 type vxlan id 1"
        f" local {NODE_IP} dev eth0 dstport 8472 nolearning",
        "addr add 10.244.0.0/32 dev flannel.1",
        "link set flannel.1 up",
        "link add cni0 address 02:00:0a:f4:00:01 mtu 1450 type bridge",
        "addr add 10.244.0.1/24 dev cni0",
        "link set cni0 up",
    ]
    fdb = ["fdb add 00:00:00:00:00:00 dev vx-user dst 198.18.0.50 self permanent"]
    fo["link"] |= {
        ("lo", ""),
        ("eth0", "veth"),
        ("uplink0", "veth"),
        ("br-user", "bridge"),
        ("vx-user", "vxlan"),
    }
    fo["address"] |= {("lo", "127.0.0.1/8"), ("eth0", f"{NODE_IP}/15")}
    fo["address"].add(("br-user", "198.19.200.1/24"))
    fo["route"] |= {
        (MAIN, "198.18.0.0/15", "", "eth0"),
        (MAIN, "198.19.200.0/24", "", "br-user"),
        (MAIN, "198.19.201.0/24", "198.19.200.254", "br-user"),
    }
    fo["neighbour"].add(("eth0", "198.18.0.1", "02:00:c6:12:00:01"))
    fo["fdb"].add(("vx-user", "00:00:00:00:00:00", "198.18.0.50"))
    fl["link"] |= {("flannel.1", "vxlan"), ("cni0", "bridge")}
    fl["address"] |= {("flannel.1", "10.244.0.0/32"), ("cni0", "10.244.0.1/24")}
    fl["route"].add((MAIN, "10.244.0.0/24", "", "cni0"))
    for k in range(size.peers):
        net, plen, underlay, mac = peer(k, size.peers)
        ip.append(f"neigh add {net} lladdr {mac} dev flannel.1 nud permanent")
        ip.append(f"route add {net}/{plen} via {net} dev flannel.1 onlink")
        fdb.append(f"fdb add {mac} dev flannel.1 dst {underlay} self permanent")
        fl["neighbour"].add(("flannel.1", net, mac))
        fl["route"].add((MAIN, f"{net}/{plen}", net, "flannel.1"))
        fl["fdb"].add(("flannel.1", mac, underlay))
    return ip, fdb, fl, fo


def plan_node(size: Size) -> NodeSpec:
    """The complete, deterministic plan for ``size``."""
    ip, fdb, fl, fo = _netlink(size)
    pods = [make_pod(i) for i in range(size.pods)]
    fl["link"] |= {(p.veth, "veth") for p in pods}
    rs = rules_mod.generate(size.foreign_rules)
    fl["rule"] |= set(rs.flannel_rules)
    fl["chain"] |= set(rs.flannel_chains)
    fo["rule"] |= set(rs.foreign_rules)
    fo["chain"] |= set(rs.foreign_chains)
    flannel_files, foreign_files = files_mod.node_files(pods)
    fl["file"] |= files_mod.identities(flannel_files)
    fo["file"] |= files_mod.identities(foreign_files)
    return NodeSpec(
        size=size,
        ip_batch=ip,
        fdb_batch=fdb,
        pods=pods,
        restore_text=rs.restore_text(),
        files={**flannel_files, **foreign_files},
        flannel=fl,
        foreign=fo,
    )
