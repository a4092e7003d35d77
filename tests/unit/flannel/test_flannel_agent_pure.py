"""Pure parts of the flanneld emulation: flags, net-conf, leases, checks, nft parsing.

Facts: flannel-footprint.md §1.2 (net-conf keys), §2.1 (flags, errors, br_netfilter),
§2.5 (nft listing), §2.7 (annotations that make a lease).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.emulation.flannel.flanneld import (
    FatalError,
    check_br_netfilter,
    check_lease,
)
from harness.emulation.flannel.model import LocalNode, local_node, node_to_peer
from harness.emulation.flannel.netconf import parse_netconf
from harness.emulation.flannel.options import FlagError, parse_flags
from harness.emulation.flannel.trafficmgr_nft import parse_listed_table
from harness.emulation.flannel.versions import flannel_version

A = "flannel.alpha.coreos.com/"


def test_flag_defaults_and_manifest_args() -> None:
    # fact: flannel-footprint.md §2.1 (flag table)
    o = parse_flags(["--ip-masq", "--kube-subnet-mgr"], {})
    assert o.ip_masq and o.kube_subnet_mgr
    assert o.subnet_file == "/run/flannel/subnet.env"
    assert o.net_config_path == "/etc/kube-flannel/net-conf.json"
    assert o.kube_annotation_prefix == "flannel.alpha.coreos.com"
    assert o.iptables_resync == 5
    assert o.iptables_forward_rules is True
    assert o.ip_masq_fully_random_disable is False
    assert o.set_node_network_unavailable is True
    assert o.healthz_port == 0
    assert parse_flags(["--healthz-port=8081"], {}).healthz_port == 8081


def test_flags_from_env_and_go_syntax() -> None:
    # fact: flannel-footprint.md §2.1 (FLANNELD_<FLAG> env vars)
    o = parse_flags(
        ["-iface=eth1"], {"FLANNELD_IP_MASQ": "true", "FLANNELD_IPTABLES_RESYNC": "7"}
    )
    assert (o.ip_masq, o.iptables_resync, o.iface) == (True, 7, ["eth1"])
    assert (
        parse_flags(["--ip-masq=false"], {"FLANNELD_IP_MASQ": "true"}).ip_masq is False
    )
    with pytest.raises(FlagError):
        parse_flags(["--no-such-flag"], {})


def test_netconf_defaults() -> None:
    # fact: flannel-footprint.md §1.2 (EnableIPv4 default true, EnableIPv6 false)
    c = parse_netconf(
        '{"Network": "10.244.0.0/16", "EnableNFTables": true, '
        '"Backend": {"Type": "vxlan"}}'
    )
    assert (c.enable_ipv4, c.enable_ipv6, c.enable_nftables, c.vni, c.port) == (
        True,
        False,
        True,
        1,
        0,
    )
    with pytest.raises(ValueError):
        parse_netconf('{"Backend": {"Type": "vxlan"}}')
    d = parse_netconf(
        '{"EnableIPv6": true, "Network": "10.244.0.0/16", '
        '"IPv6Network": "fd00:10:244::/56"}'
    )
    assert str(d.ipv6_network) == "fd00:10:244::/56"


def test_lease_errors() -> None:
    # fact: flannel-footprint.md §2.1 (exact podCIDR errors)
    conf = parse_netconf('{"Network": "10.244.0.0/16", "Backend": {"Type": "vxlan"}}')
    with pytest.raises(FatalError, match=r'node "n1" pod cidr not assigned$'):
        check_lease(LocalNode("n1", ""), conf)
    with pytest.raises(FatalError) as e:
        check_lease(LocalNode("n1", "10.99.0.0/24"), conf)
    assert str(e.value) == (
        'subnet "10.244.0.0/16" specified in the flannel net config doesn\'t contain '
        '"10.99.0.0/24" PodCIDR of the "n1" node'
    )
    check_lease(LocalNode("n1", "10.244.5.0/24"), conf)


def test_br_netfilter_check_per_version(tmp_path: Path) -> None:
    # fact: flannel-footprint.md §2.1 (v0.26.0+ check; skipped with nft from v0.28.0)
    ipt = parse_netconf('{"Network": "10.244.0.0/16"}')
    nft = parse_netconf('{"Network": "10.244.0.0/16", "EnableNFTables": true}')
    proc = str(tmp_path)  # no sys/net/bridge: br_netfilter not loaded
    check_br_netfilter(flannel_version("v0.25.3"), ipt, proc)
    with pytest.raises(FatalError, match=r"^Failed to check br_netfilter: "):
        check_br_netfilter(flannel_version("v0.26.0"), ipt, proc)
    with pytest.raises(FatalError):
        check_br_netfilter(flannel_version("v0.27.3"), nft, proc)
    check_br_netfilter(flannel_version("v0.28.0"), nft, proc)
    (tmp_path / "sys" / "net" / "bridge").mkdir(parents=True)
    (tmp_path / "sys" / "net" / "bridge" / "bridge-nf-call-iptables").write_text("1")
    check_br_netfilter(flannel_version("v0.28.9"), ipt, proc)


def test_node_to_peer_requires_flannel_lease() -> None:
    # fact: flannel-footprint.md §2.7 (kube-subnet-manager "true" + backend annotations)
    ann = {
        A + "backend-type": "vxlan",
        A + "backend-data": '{"VNI":1,"VtepMAC":"aa:bb:cc:00:00:09"}',
        A + "public-ip": "198.18.0.9",
        A + "kube-subnet-manager": "true",
    }
    n = {
        "metadata": {"name": "n9", "annotations": ann},
        "spec": {"podCIDR": "10.244.9.0/24"},
    }
    peer = node_to_peer(n)
    assert peer is not None
    assert (peer.pod_cidr, peer.public_ip, peer.vtep_mac) == (
        "10.244.9.0/24",
        "198.18.0.9",
        "aa:bb:cc:00:00:09",
    )
    assert node_to_peer({**n, "metadata": {"name": "n9", "annotations": {}}}) is None
    assert node_to_peer({**n, "spec": {}}) is None
    over = {**ann, A + "public-ip-overwrite": "198.18.1.9"}
    p2 = node_to_peer({**n, "metadata": {"name": "n9", "annotations": over}})
    assert p2 is not None and p2.public_ip == "198.18.1.9"


def test_local_node_dual_stack_cidrs() -> None:
    # fact: flannel-footprint.md §2.1 (node.spec.podCIDR(s))
    n = local_node(
        {
            "metadata": {"name": "n1"},
            "spec": {
                "podCIDR": "10.244.1.0/24",
                "podCIDRs": ["10.244.1.0/24", "fd00:10:244:1::/64"],
            },
        }
    )
    assert (n.pod_cidr, n.pod_cidr_v6) == ("10.244.1.0/24", "fd00:10:244:1::/64")


def test_parse_nft_listing() -> None:
    # fact: flannel-footprint.md §2.5 (chains with comment and hook lines)
    text = """table ip flannel-ipv4 {
\tcomment "rules for flannel-ipv4"
\tchain postrtg {
\t\tcomment "chain to manage traffic masquerading by flannel"
\t\ttype nat hook postrouting priority srcnat; policy accept;
\t\tmeta mark 0x00004000 return
\t}
\tchain forward {
\t\ttype filter hook forward priority filter; policy accept;
\t}
}
"""
    assert parse_listed_table(text) == {
        "postrtg": ["meta mark 0x00004000 return"],
        "forward": [],
    }
