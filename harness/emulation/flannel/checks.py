"""Start-up checks of the flanneld emulation (test emulation; footprint §2.1).

>>> from harness.emulation.flannel.netconf import parse_netconf
>>> conf = parse_netconf('{"Network": "10.244.0.0/16"}')
>>> check_lease(LocalNode("n1", "10.244.1.0/24"), conf)
"""

from __future__ import annotations

import ipaddress
import os

from harness.emulation.flannel.model import LocalNode
from harness.emulation.flannel.netconf import NetConf
from harness.emulation.flannel.versions import FlannelVersion


class FatalError(Exception):
    """flanneld logs it and exits 1."""


def check_br_netfilter(
    version: FlannelVersion, conf: NetConf, proc: str = "/proc"
) -> None:
    """§2.1: from v0.26.0; skipped with EnableNFTables from v0.28.0."""
    if not version.br_netfilter_check:
        return
    if conf.enable_nftables and version.br_netfilter_skip_with_nft and version.nftables:
        return
    files = ["/proc/sys/net/bridge/bridge-nf-call-iptables"]
    if conf.enable_ipv6:
        files.append("/proc/sys/net/bridge/bridge-nf-call-ip6tables")
    for path in files:
        if not os.path.exists(proc + path.removeprefix("/proc")):
            raise FatalError(
                f"Failed to check br_netfilter: stat {path}: no such file or directory"
            )


def check_lease(node: LocalNode, conf: NetConf) -> None:
    """§2.1: podCIDR required and inside Network."""
    if (conf.enable_ipv4 and not node.pod_cidr) or (
        conf.enable_ipv6 and not conf.enable_ipv4 and not node.pod_cidr_v6
    ):
        raise FatalError(
            "Error registering network: failed to acquire lease: "
            f'node "{node.name}" pod cidr not assigned'
        )
    pairs = [(conf.network, node.pod_cidr), (conf.ipv6_network, node.pod_cidr_v6)]
    for net, cidr in pairs:
        if net is not None and cidr and not ipaddress.ip_network(cidr).subnet_of(net):  # type: ignore[arg-type]
            raise FatalError(
                f'subnet "{net}" specified in the flannel net config doesn\'t contain '
                f'"{cidr}" PodCIDR of the "{node.name}" node'
            )
