"""Netfilter rules, resync and shutdown residue per version, in real namespaces.

Facts: flannel-footprint.md §2.4 (iptables), §2.5 (nftables), §2.6 (shutdown/start).
"""

from __future__ import annotations

import pytest
from flannel_lab import NETCONF, Lab, Node, link, save, wait_for

from harness.emulation.flannel.trafficmgr_nft import parse_listed_table
from harness.matrix import flannel_versions, versions_since

pytestmark = pytest.mark.sandbox
NET, POD = "10.244.0.0/16", "10.244.1.0/24"
M = '-m comment --comment "flanneld masq"'
F = '-m comment --comment "flanneld forward"'
# fact: flannel-footprint.md §2.4 (exact iptables-save lines)
NAT = [
    ":FLANNEL-POSTRTG - [0:0]",
    f"-A POSTROUTING {M} -j FLANNEL-POSTRTG",
    f"-A FLANNEL-POSTRTG -m mark --mark 0x4000/0x4000 {M} -j RETURN",
    f"-A FLANNEL-POSTRTG -s {POD} -d {NET} {M} -j RETURN",
    f"-A FLANNEL-POSTRTG -s {NET} -d {POD} {M} -j RETURN",
    f"-A FLANNEL-POSTRTG ! -s {NET} -d {POD} {M} -j RETURN",
    f"-A FLANNEL-POSTRTG -s {NET} ! -d 224.0.0.0/4 {M} -j MASQUERADE --random-fully",
    f"-A FLANNEL-POSTRTG ! -s {NET} -d {NET} {M} -j MASQUERADE --random-fully",
]
FILTER = [
    ":FLANNEL-FWD - [0:0]",
    f"-A FORWARD {F} -j FLANNEL-FWD",
    f"-A FLANNEL-FWD -s {NET} {F} -j ACCEPT",
    f"-A FLANNEL-FWD -d {NET} {F} -j ACCEPT",
]
# fact: flannel-footprint.md §2.5 (nft rules as listed)
NFT = {
    "postrtg": [
        "meta mark 0x00004000 return",
        f"ip saddr {POD} ip daddr {NET} return",
        f"ip saddr {NET} ip daddr {POD} return",
        f"ip saddr != {POD} ip daddr {NET} return",
        f"ip saddr {NET} ip daddr != 224.0.0.0/4 masquerade fully-random",
        f"ip saddr != {NET} ip daddr {NET} masquerade fully-random",
    ],
    "forward": [f"ip saddr {NET} accept", f"ip daddr {NET} accept"],
}
NFT_CONF = {**NETCONF, "EnableNFTables": True}


def nft_tables(node: Node) -> list[str]:
    out = node.net_exec(["nft", "list", "tables"]).stdout
    return sorted(line.strip() for line in out.splitlines() if "flannel" in line)


def nft_rules(
    node: Node, family: str = "ip", table: str = "flannel-ipv4"
) -> dict[str, list[str]]:
    return parse_listed_table(
        node.net_exec(["nft", "list", "table", family, table]).stdout
    )


@pytest.mark.parametrize("version", flannel_versions())
def test_iptables_rules_exact(lab: Lab, version: str) -> None:
    n1, _ = lab.nodes
    n1.start_flanneld(version, NETCONF)
    assert save(n1, "nat") == NAT
    assert save(n1, "filter") == FILTER
    assert save(n1, "nat", 6) == []  # ip6tables only when IPv6 is enabled (v0.24.4+)


def test_resync_readds_deleted_rule(lab: Lab) -> None:
    # fact: flannel-footprint.md §2.4 (5 s check; delete and re-add all)
    n1, _ = lab.nodes
    n1.start_flanneld("v0.27.3", NETCONF)
    n1.net_exec(
        [
            "iptables",
            "-t",
            "nat",
            "-D",
            "FLANNEL-POSTRTG",
            "-m",
            "mark",
            "--mark",
            "0x4000/0x4000",
            "-m",
            "comment",
            "--comment",
            "flanneld masq",
            "-j",
            "RETURN",
        ]
    )
    n1.net_exec(
        [
            "iptables",
            "-t",
            "filter",
            "-D",
            "FORWARD",
            "-m",
            "comment",
            "--comment",
            "flanneld forward",
            "-j",
            "FLANNEL-FWD",
        ]
    )
    assert save(n1, "nat") != NAT
    wait_for(
        lambda: save(n1, "nat") == NAT and save(n1, "filter") == FILTER, 12, "resync"
    )
    assert "Some iptables rules are missing; deleting and recreating rules" in n1.log()


@pytest.mark.parametrize(
    ("version", "nat_after", "filter_after"),
    [  # fact: flannel-footprint.md §2.6
        ("v0.24.4", NAT, FILTER),  # teardown never runs
        (
            "v0.26.7",
            [":FLANNEL-POSTRTG - [0:0]"],
            [":FLANNEL-FWD - [0:0]"],
        ),  # empty chains
        ("v0.27.3", NAT, FILTER),  # nothing removed on SIGTERM
        ("v0.28.9", NAT, FILTER),
    ],
)
def test_shutdown_residue_iptables(
    lab: Lab, version: str, nat_after: list[str], filter_after: list[str]
) -> None:
    n1, _ = lab.nodes
    proc = n1.start_flanneld(version, NETCONF)
    assert n1.stop(proc) == 0
    assert save(n1, "nat") == nat_after
    assert save(n1, "filter") == filter_after
    # never removed in any version: device and subnet.env (§2.6)
    assert link(n1, "flannel.1") is not None
    assert n1.subnet_env.exists()
    if version == "v0.26.7":
        assert "iptables (ipv4): cleaning-up before exiting flannel..." in n1.log()


@pytest.mark.parametrize("version", versions_since("v0.25.0"))  # nft mode (§2.5)
def test_nftables_mode_rules_and_shutdown(lab: Lab, version: str) -> None:
    # fact: flannel-footprint.md §2.5 (tables, rules), §2.6 (v0.25-v0.26 delete tables)
    n1, _ = lab.nodes
    proc = n1.start_flanneld(version, NFT_CONF)
    assert nft_tables(n1) == ["table ip flannel-ipv4", "table ip6 flannel-ipv6"]
    assert nft_rules(n1) == NFT
    assert nft_rules(n1, "ip6", "flannel-ipv6") == {}
    listing = n1.net_exec(["nft", "list", "table", "ip", "flannel-ipv4"]).stdout
    assert 'comment "rules for flannel-ipv4"' in listing
    assert 'comment "chain to manage traffic masquerading by flannel"' in listing
    assert "type nat hook postrouting priority srcnat" in listing
    assert save(n1, "nat") == []
    assert n1.stop(proc) == 0
    if version == "v0.26.7":
        assert nft_tables(n1) == []
        assert "Cleaning-up flannel tables..." in n1.log()
    else:
        assert nft_tables(n1) == ["table ip flannel-ipv4", "table ip6 flannel-ipv6"]


def test_v027_cleans_other_mode_at_start(lab: Lab) -> None:
    # fact: flannel-footprint.md §2.6 (v0.27+: Cleaning-up unused traffic manager rules)
    n1, _ = lab.nodes
    n1.stop(n1.start_flanneld("v0.27.3", NFT_CONF))
    assert nft_tables(n1) != []
    proc = n1.start_flanneld("v0.27.3", NETCONF)  # iptables mode: nft tables deleted
    assert nft_tables(n1) == []
    assert save(n1, "nat") == NAT
    n1.stop(proc)
    n1.start_flanneld("v0.27.3", NFT_CONF)  # nft mode: nat chains flushed, filter kept
    nat = save(n1, "nat")
    assert f"-A POSTROUTING {M} -j FLANNEL-POSTRTG" in nat  # jump keeps the chain
    assert [ln for ln in nat if ln.startswith("-A FLANNEL-POSTRTG")] == []
    assert save(n1, "filter") == FILTER  # inferred: filter FLANNEL-FWD never removed
    assert "Cleaning-up unused traffic manager rules" in n1.log()


def test_v026_does_not_clean_other_mode(lab: Lab) -> None:
    # fact: flannel-footprint.md §2.6 (start-time cleanup only from v0.27.0)
    n1, _ = lab.nodes
    proc = n1.start_flanneld("v0.26.7", NETCONF)
    n1.net_exec(["nft", "add", "table", "ip", "flannel-ipv4"])
    n1.stop(proc)  # v0.26 shutdown deletes only iptables rules in iptables mode
    n1.start_flanneld("v0.26.7", NETCONF)
    assert "table ip flannel-ipv4" in nft_tables(n1)
    assert "Cleaning-up unused traffic manager rules" not in n1.log()
