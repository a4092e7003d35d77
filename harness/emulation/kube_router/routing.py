"""Links, routes and rules of the kube-router emulation, over netlink (test emulation).

kube-router-footprint.md §2.2 / §2.3: ``kube-bridge`` is created and brought up with
the MTU of the NIC holding the node IP and **no address** (the bridge plugin adds
``.1`` on the first pod); routes to peers' pod CIDRs carry ``proto 17`` and are applied
with replace (a Flannel route for the same prefix is overwritten), withdrawn by dst +
proto 17; with overlay on, ``from <podCIDR> lookup 77`` with no explicit priority
(32765 on a default rule set); table 77 holds ``<peer IP>/32 dev tun-…`` per tunnel.
"""

from __future__ import annotations

import ipaddress
import logging
import subprocess
from dataclasses import dataclass

from pyroute2 import IPRoute
from pyroute2.netlink.exceptions import NetlinkError

log = logging.getLogger(__name__)

BRIDGE = "kube-bridge"
PROTO = 17  # §2.3 ZebraOriginator = 0x11 ("proto 17": iproute2 has no name for it)
TABLE = 77  # §2.3 kube-router's policy-routing table
MAIN = 254
AF_INET = 2


@dataclass(frozen=True)
class Nic:
    """The NIC holding the node's IP (§2.2 auto-mtu)."""

    index: int
    name: str
    mtu: int
    ip: str
    network: str  # the NIC's subnet, for the overlay decision


def primary_nic(ipr: IPRoute, node_ip: str) -> Nic:
    for addr in ipr.get_addr(family=AF_INET):
        if addr.get("IFA_ADDRESS") == node_ip:
            link = ipr.get_links(addr["index"])[0]
            net = ipaddress.ip_network(f"{node_ip}/{addr['prefixlen']}", strict=False)
            return Nic(
                int(addr["index"]),
                str(link.get("IFLA_IFNAME")),
                int(link.get("IFLA_MTU")),
                node_ip,
                str(net),
            )
    raise RuntimeError(f"no interface holds the node IP {node_ip}")


def ensure_bridge(ipr: IPRoute, mtu: int) -> int:
    """``setupKubeBridge``: create if missing, MTU, up; never an address."""
    found = ipr.link_lookup(ifname=BRIDGE)
    if not found:
        log.info("Creating %s", BRIDGE)
        ipr.link("add", ifname=BRIDGE, kind="bridge")
        found = ipr.link_lookup(ifname=BRIDGE)
    index = int(found[0])
    ipr.link("set", index=index, mtu=mtu, state="up")
    return index


def replace_route(ipr: IPRoute, dst: str, gateway: str, oif: int) -> None:
    """One injected route: ``<dst> via <gateway> dev <oif> proto 17`` (RouteReplace)."""
    ipr.route("replace", dst=dst, gateway=gateway, oif=oif, proto=PROTO, table=MAIN)


def withdraw_route(ipr: IPRoute, dst: str) -> None:
    """Delete main-table routes to ``dst`` that carry proto 17."""
    net = ipaddress.ip_network(dst)
    for route in ipr.route("dump", family=AF_INET, table=MAIN):
        if (
            route["proto"] == PROTO
            and route.get("RTA_DST") == str(net.network_address)
            and route["dst_len"] == net.prefixlen
        ):
            try:
                ipr.route("del", dst=dst, proto=PROTO, table=MAIN)
            except NetlinkError as e:
                log.debug("withdraw %s: %s", dst, e)


def injected_routes(ipr: IPRoute) -> dict[str, str]:
    """dst -> gateway of the main table's proto-17 routes."""
    out = {}
    for route in ipr.route("dump", family=AF_INET, table=MAIN):
        if route["proto"] == PROTO and route.get("RTA_DST"):
            out[f"{route.get('RTA_DST')}/{route['dst_len']}"] = route.get("RTA_GATEWAY")
    return out


def _pbr_rules(ipr: IPRoute, cidr: str) -> list[int]:
    net = ipaddress.ip_network(cidr)
    return [
        int(r.get("FRA_PRIORITY") or 0)
        for r in ipr.get_rules(family=AF_INET)
        if r.get("FRA_TABLE") == TABLE
        and r.get("FRA_SRC") == str(net.network_address)
        and r["src_len"] == net.prefixlen
    ]


def ensure_pbr_rule(ipr: IPRoute, cidr: str) -> None:
    """``from <cidr> lookup 77`` with no priority attribute, so the kernel picks one
    (32765 on a default rule set, §2.3); pyroute2 always sends a priority, hence
    ``ip rule``."""
    if not _pbr_rules(ipr, cidr):
        subprocess.run(
            ["ip", "rule", "add", "from", cidr, "lookup", str(TABLE)],
            check=True,
            capture_output=True,
            timeout=30,
        )


def delete_pbr_rule(ipr: IPRoute, cidr: str) -> None:
    """Overlay off: kube-router removes the rule (§2.3)."""
    net = ipaddress.ip_network(cidr)
    for prio in _pbr_rules(ipr, cidr):
        ipr.rule(
            "del",
            table=TABLE,
            src=str(net.network_address),
            src_len=net.prefixlen,
            priority=prio,
        )


def ensure_tunnel(ipr: IPRoute, name: str, local: str, remote: str) -> int | None:
    """An IPIP tunnel to ``remote`` and its table-77 route (§2.2, §2.3); None (logged)
    when the kernel cannot make one."""
    found = ipr.link_lookup(ifname=name)
    try:
        if not found:
            ipr.link(
                "add", ifname=name, kind="ipip", ipip_local=local, ipip_remote=remote
            )
            found = ipr.link_lookup(ifname=name)
        index = int(found[0])
        ipr.link("set", index=index, state="up")
        ipr.route("replace", dst=f"{remote}/32", oif=index, table=TABLE)
    except NetlinkError as e:
        log.error("Failed to create tunnel interface %s: %s", name, e)
        return None
    return index


def replace_tunnel_route(ipr: IPRoute, dst: str, oif: int, src: str) -> None:
    """``<dst> dev tun-… proto 17 src <node IP>`` (§2.3, PR #428)."""
    ipr.route("replace", dst=dst, oif=oif, prefsrc=src, proto=PROTO, table=MAIN)
