"""What the kube-router emulation reads from Node objects, as plain data (pure).

Facts (kube-router-footprint.md): the pod CIDR comes from the annotation
``kube-router.io/pod-cidr(s)`` if present, else ``spec.podCIDR(s)`` (§3.1); the
``kube-router-node-ips`` set holds every node's internal and external IPs (§2.5);
tunnels exist only with overlay on and either ``--overlay-type=full`` or a peer outside
this node's subnet, named ``tun-`` + the first 11 hex characters of sha256 of the IP
without dots/colons since v2.0 (§2.2).

>>> tunnel_name("192.168.56.11"), tunnel_name("10.0.0.12")
('tun-fc469c2a7f5', 'tun-92eed7da029')
>>> tunnel_name("192.168.100.101", v2=False), tunnel_name("10.229.47.25", v2=False)
('tun192168100101', 'tun-102294725')
"""

from __future__ import annotations

import hashlib
import ipaddress
from dataclasses import dataclass, field
from typing import Any

ANN_POD_CIDR = "kube-router.io/pod-cidr"  # §3.1 (deprecated, single)
ANN_POD_CIDRS = "kube-router.io/pod-cidrs"  # §3.1 (dual-stack, comma-separated)


@dataclass(frozen=True)
class NodeInfo:
    """A Node as kube-router uses it."""

    name: str
    pod_cidrs: tuple[str, ...]  # v4 first when both families are present
    internal_ips: tuple[str, ...]
    external_ips: tuple[str, ...] = ()
    annotations: dict[str, str] = field(default_factory=dict, hash=False)

    @property
    def ip(self) -> str:
        """The node IP kube-router peers with (first InternalIP, else ExternalIP)."""
        return (self.internal_ips or self.external_ips or ("",))[0]

    def pod_cidr(self, family: int = 4) -> str:
        """This node's pod CIDR of ``family`` (``""`` when it has none)."""
        for cidr in self.pod_cidrs:
            if ipaddress.ip_network(cidr, strict=False).version == family:
                return cidr
        return ""


def _cidrs(values: list[str]) -> tuple[str, ...]:
    nets = [ipaddress.ip_network(v.strip(), strict=False) for v in values if v.strip()]
    return tuple(str(n) for n in sorted(nets, key=lambda n: n.version))


def pod_cidrs(node: dict[str, Any]) -> tuple[str, ...]:
    """§3.1: annotation ``kube-router.io/pod-cidrs`` / ``pod-cidr`` wins over the spec.

    >>> pod_cidrs({"metadata": {"annotations": {ANN_POD_CIDR: "10.9.0.0/24"}},
    ...            "spec": {"podCIDR": "10.244.1.0/24"}})
    ('10.9.0.0/24',)
    """
    ann = (node.get("metadata") or {}).get("annotations") or {}
    if ann.get(ANN_POD_CIDRS):
        return _cidrs(ann[ANN_POD_CIDRS].split(","))
    if ann.get(ANN_POD_CIDR):
        return _cidrs([ann[ANN_POD_CIDR]])
    spec = node.get("spec") or {}
    return _cidrs(spec.get("podCIDRs") or [spec.get("podCIDR") or ""])


def node_info(node: dict[str, Any]) -> NodeInfo:
    """A (serialised, camelCase) Node object to :class:`NodeInfo`."""
    meta = node.get("metadata") or {}
    addresses = (node.get("status") or {}).get("addresses") or []

    def of(kind: str) -> tuple[str, ...]:
        return tuple(a["address"] for a in addresses if a.get("type") == kind)

    return NodeInfo(
        name=str(meta.get("name", "")),
        pod_cidrs=pod_cidrs(node),
        internal_ips=of("InternalIP"),
        external_ips=of("ExternalIP"),
        annotations=dict(meta.get("annotations") or {}),
    )


def node_ips(nodes: list[NodeInfo], family: int = 4) -> list[str]:
    """§2.5 ``kube-router-node-ips``: every node's internal and external IPs."""
    out: list[str] = []
    for n in nodes:
        for ip in (*n.internal_ips, *n.external_ips):
            if ipaddress.ip_address(ip).version == family and ip not in out:
                out.append(ip)
    return out


def pod_subnets(nodes: list[NodeInfo], family: int = 4) -> list[str]:
    """§2.5 ``kube-router-pod-subnets``: every node's pod CIDR(s)."""
    return [c for n in nodes if (c := n.pod_cidr(family))]


def tunnel_name(ip: str, v2: bool = True) -> str:
    """§2.2 ``GenerateTunnelName`` (v2.0+), or the pre-v2.0 ``tun-<ip>`` form."""
    stripped = ip.replace(".", "").replace(":", "")
    if v2:
        return "tun-" + hashlib.sha256(stripped.encode()).hexdigest()[:11]
    return f"tun-{stripped}" if len(stripped) < 12 else f"tun{stripped}"


def needs_tunnel(local_net: str, peer: str, overlay: bool, full: bool) -> bool:
    """§2.2: overlay on and (``--overlay-type=full`` or the peer outside our subnet).

    >>> needs_tunnel("198.18.0.0/15", "198.18.0.3", True, False)
    False
    >>> needs_tunnel("198.18.0.0/15", "192.0.2.9", True, False)
    True
    """
    if not overlay:
        return False
    if full:
        return True
    return ipaddress.ip_address(peer) not in ipaddress.ip_network(
        local_net, strict=False
    )
