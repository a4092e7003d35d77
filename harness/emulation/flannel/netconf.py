"""flanneld's ``net-conf.json`` (test emulation; flannel-footprint.md §1.2).

>>> c = parse_netconf('{"Network": "10.244.0.0/16", "Backend": {"Type": "vxlan"}}')
>>> (str(c.network), c.backend_type, c.vni, c.enable_nftables)
('10.244.0.0/16', 'vxlan', 1, False)
"""

from __future__ import annotations

import ipaddress
import json
from dataclasses import dataclass, field
from typing import Any

DEFAULT_PATH = "/etc/kube-flannel/net-conf.json"  # §2.1 --net-config-path


@dataclass(frozen=True)
class NetConf:
    """The parts of net-conf.json the emulation honours (§1.2, §2.3, §2.5)."""

    network: ipaddress.IPv4Network | None
    ipv6_network: ipaddress.IPv6Network | None
    enable_ipv4: bool = True
    enable_ipv6: bool = False
    enable_nftables: bool = False
    backend_type: str = "vxlan"
    vni: int = 1  # §2.3 default VNI 1
    port: int = 0  # §2.3 0 = kernel default 8472
    direct_routing: bool = False
    backend: dict[str, Any] = field(default_factory=dict)


def parse_netconf(text: str) -> NetConf:
    """Parse net-conf.json; raise ValueError like flanneld refuses a bad config."""
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as e:
        raise ValueError(f"failed to parse config: {e}") from e
    enable_ipv4 = bool(raw.get("EnableIPv4", True))
    enable_ipv6 = bool(raw.get("EnableIPv6", False))
    network = ipaddress.IPv4Network(raw["Network"]) if raw.get("Network") else None
    v6 = raw.get("IPv6Network")
    ipv6_network = ipaddress.IPv6Network(v6) if v6 else None
    if enable_ipv4 and network is None:
        raise ValueError(
            "please define a correct Network parameter in the flannel config"
        )
    if enable_ipv6 and ipv6_network is None:
        raise ValueError(
            "please define a correct IPv6Network parameter in the flannel config"
        )
    backend = dict(raw.get("Backend") or {})
    return NetConf(
        network=network if enable_ipv4 else None,
        ipv6_network=ipv6_network if enable_ipv6 else None,
        enable_ipv4=enable_ipv4,
        enable_ipv6=enable_ipv6,
        enable_nftables=bool(raw.get("EnableNFTables", False)),
        backend_type=str(backend.get("Type", "udp")).lower(),
        vni=int(backend.get("VNI", 1)),
        port=int(backend.get("Port", 0)),
        direct_routing=bool(backend.get("DirectRouting", False)),
        backend=backend,
    )


def load_netconf(path: str = DEFAULT_PATH) -> NetConf:
    """Read and parse the net-conf file at ``path``."""
    with open(path, encoding="utf-8") as f:
        return parse_netconf(f.read())
