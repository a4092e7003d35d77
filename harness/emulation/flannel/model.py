"""Data the flanneld emulation passes between its kube part and its backends.

Test emulation. The kube subnet manager (:mod:`kube`) turns Node objects into a
:class:`LocalNode` and a list of :class:`Peer`; backends only ever see those, so the
sandbox tests can feed peers without an API server (flannel-footprint.md §2.3, §2.7).

>>> node_to_peer({"metadata": {"name": "n2", "annotations": {
...     "flannel.alpha.coreos.com/kube-subnet-manager": "true",
...     "flannel.alpha.coreos.com/backend-type": "vxlan",
...     "flannel.alpha.coreos.com/backend-data": '{"VtepMAC":"aa:bb:cc:dd:ee:02"}',
...     "flannel.alpha.coreos.com/public-ip": "198.18.0.2"}},
...     "spec": {"podCIDR": "10.244.2.0/24"}}).vtep_mac
'aa:bb:cc:dd:ee:02'
"""

from __future__ import annotations

import ipaddress
import json
from dataclasses import dataclass, field
from typing import Any

PREFIX = "flannel.alpha.coreos.com/"  # §2.1 --kube-annotation-prefix
ANN_BACKEND_TYPE = PREFIX + "backend-type"
ANN_BACKEND_DATA = PREFIX + "backend-data"
ANN_BACKEND_V6_DATA = PREFIX + "backend-v6-data"
ANN_PUBLIC_IP = PREFIX + "public-ip"
ANN_PUBLIC_IPV6 = PREFIX + "public-ipv6"
ANN_SUBNET_MANAGER = PREFIX + "kube-subnet-manager"
ANN_PUBLIC_IP_OVERWRITE = PREFIX + "public-ip-overwrite"  # §2.7, read only

# §2.7 node condition set by CompleteLease
CONDITION = {
    "type": "NetworkUnavailable",
    "status": "False",
    "reason": "FlannelIsUp",
    "message": "Flannel is running on this node",
}


@dataclass(frozen=True)
class Peer:
    """Another node's lease as the backends need it."""

    name: str
    pod_cidr: str
    public_ip: str
    vtep_mac: str = ""
    pod_cidr_v6: str = ""
    public_ipv6: str = ""
    vtep_mac_v6: str = ""
    backend_type: str = "vxlan"


@dataclass(frozen=True)
class LocalNode:
    """This node: its name, podCIDR(s) and current annotations."""

    name: str
    pod_cidr: str
    pod_cidr_v6: str = ""
    annotations: dict[str, str] = field(default_factory=dict)


def _cidrs(spec: dict[str, Any]) -> tuple[str, str]:
    """(IPv4, IPv6) podCIDR from ``spec.podCIDR`` / ``spec.podCIDRs``."""
    v4 = v6 = ""
    for cidr in [spec.get("podCIDR") or "", *(spec.get("podCIDRs") or [])]:
        if not cidr:
            continue
        net = ipaddress.ip_network(cidr, strict=False)
        if net.version == 4 and not v4:
            v4 = str(net)
        elif net.version == 6 and not v6:
            v6 = str(net)
    return v4, v6


def local_node(node: dict[str, Any]) -> LocalNode:
    """A (camelCase, serialized) Node object to :class:`LocalNode`."""
    meta = node.get("metadata") or {}
    v4, v6 = _cidrs(node.get("spec") or {})
    return LocalNode(meta.get("name", ""), v4, v6, dict(meta.get("annotations") or {}))


def _mac(data: str | None) -> str:
    try:
        parsed = json.loads(data or "null")
    except ValueError:
        return ""
    return str(parsed.get("VtepMAC", "")) if isinstance(parsed, dict) else ""


def node_to_peer(node: dict[str, Any]) -> Peer | None:
    """A peer lease from a Node, or None when the node is not a flannel lease yet."""
    meta = node.get("metadata") or {}
    ann = meta.get("annotations") or {}
    if ann.get(ANN_SUBNET_MANAGER) != "true" or not ann.get(ANN_BACKEND_TYPE):
        return None
    v4, v6 = _cidrs(node.get("spec") or {})
    public_ip = ann.get(ANN_PUBLIC_IP_OVERWRITE) or ann.get(ANN_PUBLIC_IP, "")
    if not (v4 or v6) or not (public_ip or ann.get(ANN_PUBLIC_IPV6)):
        return None
    return Peer(
        name=meta.get("name", ""),
        pod_cidr=v4,
        public_ip=public_ip,
        vtep_mac=_mac(ann.get(ANN_BACKEND_DATA)),
        pod_cidr_v6=v6,
        public_ipv6=ann.get(ANN_PUBLIC_IPV6, ""),
        vtep_mac_v6=_mac(ann.get(ANN_BACKEND_V6_DATA)),
        backend_type=ann[ANN_BACKEND_TYPE],
    )
