"""Which routes are Flannel's -- by evidence tied to Flannel, never by "inside some
network".

Routes on Flannel's own devices go with the device (listed as its covers). Apart from
those, flanneld leaves two kinds (flannel-footprint.md §2.3):

* ``--ip-blackhole-route``: a blackhole for the node's own podCIDR in the main table;
* host-gw (and vxlan ``DirectRouting``): ``<peer podCIDR> via <peer IP> dev <ext>``.

A peer route is claimed only when all of this holds: it is in the main table (flanneld
never uses another), has the protocol flanneld's netlink routes get (``boot``: the
vishvananda/netlink default; kube-router's peer routes are ``proto 17``,
kube-router-footprint.md §2.3), its destination is a pod-subnet-sized block of a
cluster network that the cross-checked facts settle *and* corroborate, it is not the
node's own podCIDR, and its gateway sits on a subnet of its device (a peer on the
underlay). A route that looks like one but fails any of these is left alone with why.

>>> peer_doubts({"family": 4, "dst": "10.244.2.0/24", "gateway": "198.18.0.3",
...              "table": 100, "proto": 3}, ["10.244.0.0/16"], [], True, True)
['it is in table 100; flanneld only uses the main table']
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from typing import Any

from cniscrub.footprints.flannel_crosscheck import MIN_PREFIX, corroborated
from cniscrub.footprints.model import Claim, Footprint, LeftAlone
from cniscrub.inventory.model import Inventory

MAIN, RTPROT_BOOT, RTPROT_KERNEL = 254, 3, 2


def peer_doubts(
    d: dict[str, Any],
    networks: Sequence[str],
    pods: Sequence[str],
    corroborated_net: bool,
    gateway_on_link: bool,
) -> list[str]:
    """What contradicts the gateway route ``d`` being a Flannel peer route."""
    out = []
    net = ipaddress.ip_network(d["dst"])
    if d["table"] != MAIN:
        out.append(f"it is in table {d['table']}; flanneld only uses the main table")
    if d["proto"] != RTPROT_BOOT:
        out.append(f"its protocol {d['proto']} is not that of flanneld's routes (boot)")
    inside = [n for n in networks if net.subnet_of(ipaddress.ip_network(n))]  # type: ignore[arg-type]
    if not inside:
        out.append("its destination is in no cluster network the facts agree on")
    elif not corroborated_net:
        out.append(
            f"the cluster network {inside[0]} is shown by one kind of source only"
        )
    own = [ipaddress.ip_network(p) for p in pods]
    size = own[0].prefixlen if own else (24 if net.version == 4 else 64)
    if net.prefixlen != size:
        out.append(f"/{net.prefixlen} is not the size of a node's pod subnet (/{size})")
    if any(net.overlaps(p) for p in own):
        out.append("it overlaps this node's own pod subnet")
    if not gateway_on_link:
        out.append(f"its gateway {d['gateway']} is not on a subnet of its device")
    return out


def _on_link(
    inv: Inventory,
) -> dict[int, list[ipaddress.IPv4Network | ipaddress.IPv6Network]]:
    out: dict[int, list[Any]] = {}
    for a in inv.of("address"):
        iface = ipaddress.ip_interface(a.data["cidr"])
        if iface.network.num_addresses > 1 and not a.data["link_local"]:
            out.setdefault(a.data["index"], []).append(iface.network)
    return out


def _looks_related(net: Any, fp: Footprint) -> bool:
    """Worth a left-alone line: inside a network some source named (even rejected)."""
    fact = fp.fact(f"network{net.version}")
    named = [ipaddress.ip_network(n) for n in [*fact.values, *fact.rejected]]
    return any(
        net.subnet_of(n) for n in named if n.prefixlen >= MIN_PREFIX[net.version]
    )


def _blackhole(fp: Footprint, r: Any) -> None:
    d, net = r.data, ipaddress.ip_network(r.data["dst"])
    pods = [ipaddress.ip_network(p) for p in fp.fact(f"podcidr{net.version}").values]
    label = f"route blackhole {d['dst']} table {d['table']}"
    if net in pods and d["table"] == MAIN:
        why = f"blackhole for the local podCIDR {d['dst']} (--ip-blackhole-route, §2.3)"
        fp.claims.append(Claim(r, label, [why]))
    elif net in pods or _looks_related(net, fp):
        why = (
            "not the node's podCIDR"
            if net not in pods
            else f"it is in table {d['table']}"
        )
        fp.left_alone.append(
            LeftAlone(label, f"looks like Flannel's blackhole route but {why}")
        )


def match_routes(fp: Footprint, inv: Inventory, owned_links: set[int]) -> None:
    """Claim the routes that are Flannel's apart from those of its devices."""
    on_link = _on_link(inv)
    names = {r.data["index"]: r.key for r in inv.of("link")}
    for r in inv.of("route"):
        d = r.data
        if (d["oif"] in owned_links and d["type"] != "blackhole") or d["dst"] in (
            None,
            "default",
        ):
            continue  # goes with its device
        if d["type"] == "blackhole":
            _blackhole(fp, r)
            continue
        if d["type"] != "unicast" or not d["gateway"] or d["proto"] == RTPROT_KERNEL:
            continue
        net = ipaddress.ip_network(d["dst"])
        if not _looks_related(net, fp):
            continue
        fam = net.version
        gw = ipaddress.ip_address(d["gateway"])
        linked = any(gw in n for n in on_link.get(d["oif"], []))
        networks, pods = (
            fp.fact(f"network{fam}").values,
            fp.fact(f"podcidr{fam}").values,
        )
        why = peer_doubts(dict(d), networks, pods, corroborated(fp, fam), linked)
        label = f"route {d['type']} {d['dst']} table {d['table']}"
        if why:
            fp.left_alone.append(
                LeftAlone(
                    label, "looks like a Flannel peer route but " + "; ".join(why)
                )
            )
            continue
        dev = names.get(d["oif"], d["oif"])
        fp.claims.append(Claim(r, label, [
            f"route to peer podCIDR {d['dst']} via {d['gateway']} on {dev}: in the main "
            f"table, inside the corroborated cluster network, gateway on the underlay "
            "(host-gw/DirectRouting, §2.3)"
        ]))  # fmt: skip
