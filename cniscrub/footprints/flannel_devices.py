"""Flannel's devices: a name and a kind make a candidate; its attributes decide.

Candidates (flannel-footprint.md §2.3): vxlan ``flannel.<VNI>``/``flannel-v6.<VNI>``
whose VNI matches the name, wireguard ``flannel-wg``/``flannel-wg-v6``, tun
``flannel<N>``, ipip ``flannel.ipip``. A candidate is Flannel's only when nothing about
it contradicts that: a vxlan/ipip device's local address is one of this node's own
addresses (flanneld sets the external interface's), a vxlan device uses UDP 8472 (the
kernel default flanneld leaves unset) unless it holds an address in the cluster network
(a configured ``Port``), and every address it holds lies in the cluster network (its
lease is ``<subnet IP>/32``). Anything else is a look-alike, left alone with why.

>>> device_reason({"name": "flannel.4096", "kind": "vxlan", "vxlan": {"id": 4096}})
'vxlan device flannel.4096 with VNI 4096 (§2.3)'
>>> for why in doubts({"kind": "vxlan", "vxlan": {"local": "198.18.0.2", "port": 4789}},
...                   ["192.168.9.1/32"], {"198.18.0.2"}, ["10.244.0.0/16"]):
...     print(why)
UDP port 4789, not 8472, and no address in the cluster network
address 192.168.9.1/32 is outside the cluster network 10.244.0.0/16
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Collection, Sequence
from typing import Any

VXLAN = re.compile(r"^flannel(-v6)?\.(\d+)$")
WIREGUARD = ("flannel-wg", "flannel-wg-v6")
TUN = re.compile(r"^flannel\d+$")
VXLAN_PORT = 8472  # kernel default; flanneld passes no port unless configured (§2.3)


def device_reason(d: dict[str, Any]) -> str | None:
    """Why the name and kind make ``d`` a Flannel device candidate (None: they do not)."""
    name, kind = d["name"], d["kind"]
    m = VXLAN.match(name)
    if m and kind == "vxlan" and d.get("vxlan", {}).get("id") == int(m.group(2)):
        return f"vxlan device {name} with VNI {m.group(2)} (§2.3)"
    if name in WIREGUARD and kind == "wireguard":
        return f"wireguard device {name} (§2.3)"
    if TUN.match(name) and kind == "tun":
        return f"udp backend tun device {name} (§2.3)"
    if name == "flannel.ipip" and kind == "ipip":
        return "ipip backend device flannel.ipip (§2.3)"
    return None


def _in(cidr: str, networks: Sequence[str]) -> bool:
    ip = ipaddress.ip_interface(cidr).ip
    nets = map(ipaddress.ip_network, networks)
    return any(ip.version == n.version and ip in n for n in nets)


def doubts(
    d: dict[str, Any],
    addresses: Sequence[str],
    node_ips: Collection[str],
    networks: Sequence[str],
) -> list[str]:
    """What contradicts a candidate being Flannel's: ``addresses`` are its own (CIDRs,
    not link-local), ``node_ips`` those of the node's other devices, ``networks`` the
    settled cluster networks (empty: unknown, nothing to check against)."""
    out = []
    tunnel = d.get("vxlan") or d.get("tunnel") or {}
    if d["kind"] in ("vxlan", "ipip"):
        local = tunnel.get("local")
        if not local:
            out.append("it has no local address (flanneld always sets the node's)")
        elif local not in node_ips:
            out.append(f"its local address {local} is not one of this node's")
    inside = [a for a in addresses if networks and _in(a, networks)]
    port = tunnel.get("port") if d["kind"] == "vxlan" else None
    if port not in (None, VXLAN_PORT) and not inside:
        out.append(
            f"UDP port {port}, not {VXLAN_PORT}, and no address in the cluster network"
        )
    for a in addresses:
        family = [n for n in networks if (":" in n) == (":" in a)]
        if family and a not in inside:
            out.append(f"address {a} is outside the cluster network {family[0]}")
    return out
