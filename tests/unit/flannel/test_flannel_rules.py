"""iptables and nftables rule goldens (fact: flannel-footprint.md §2.4, §2.5)."""

from __future__ import annotations

import pytest

from harness.emulation.flannel.rules import (
    forward_rules,
    masq_rules,
    nft_delete_script,
    nft_init_script,
    nft_listed_rules,
    nft_script,
    restore_payload,
)

NET, POD = "10.244.0.0/16", "10.244.1.0/24"
M = '-m comment --comment "flanneld masq"'


@pytest.mark.parametrize("random_fully", [True, False])
def test_ipv4_masq_golden(random_fully: bool) -> None:
    # fact: flannel-footprint.md §2.4 (nat FLANNEL-POSTRTG, --random-fully switch)
    rnd = " --random-fully" if random_fully else ""
    assert [r.save_line() for r in masq_rules(NET, POD, random_fully=random_fully)] == [
        f"-A POSTROUTING {M} -j FLANNEL-POSTRTG",
        f"-A FLANNEL-POSTRTG -m mark --mark 0x4000/0x4000 {M} -j RETURN",
        f"-A FLANNEL-POSTRTG -s {POD} -d {NET} {M} -j RETURN",
        f"-A FLANNEL-POSTRTG -s {NET} -d {POD} {M} -j RETURN",
        f"-A FLANNEL-POSTRTG ! -s {NET} -d {POD} {M} -j RETURN",
        f"-A FLANNEL-POSTRTG -s {NET} ! -d 224.0.0.0/4 {M} -j MASQUERADE{rnd}",
        f"-A FLANNEL-POSTRTG ! -s {NET} -d {NET} {M} -j MASQUERADE{rnd}",
    ]
    assert {r.table for r in masq_rules(NET, POD)} == {"nat"}


def test_ipv6_masq_uses_ff00() -> None:
    # fact: flannel-footprint.md §2.4 (ip6tables: same chains, ff00::/8)
    net6, pod6 = "fd00:10:244::/56", "fd00:10:244:1::/64"
    lines = [r.save_line() for r in masq_rules(net6, pod6, family=6)]
    assert lines[5] == (
        f"-A FLANNEL-POSTRTG -s {net6} ! -d ff00::/8 {M} -j MASQUERADE --random-fully"
    )
    assert lines[2] == f"-A FLANNEL-POSTRTG -s {pod6} -d {net6} {M} -j RETURN"


def test_forward_golden() -> None:
    # fact: flannel-footprint.md §2.4 (filter FLANNEL-FWD)
    f = '-m comment --comment "flanneld forward"'
    assert [r.save_line() for r in forward_rules(NET)] == [
        f"-A FORWARD {f} -j FLANNEL-FWD",
        f"-A FLANNEL-FWD -s {NET} {f} -j ACCEPT",
        f"-A FLANNEL-FWD -d {NET} {f} -j ACCEPT",
    ]
    assert {r.table for r in forward_rules(NET)} == {"filter"}


def test_restore_payload_declares_chain_per_table() -> None:
    # fact: flannel-footprint.md §2.4 (applied with iptables-restore --noflush)
    payload = restore_payload(masq_rules(NET, POD) + forward_rules(NET))
    lines = payload.splitlines()
    assert lines[0:3] == ["*nat", ":FLANNEL-POSTRTG - [0:0]", "-F FLANNEL-POSTRTG"]
    assert lines.count("COMMIT") == 2
    assert ":FLANNEL-FWD - [0:0]" in lines
    assert lines[-1] == "COMMIT"


def test_nft_listed_goldens() -> None:
    # fact: flannel-footprint.md §2.5 (rules as in e2e check_nftables, != podCIDR)
    assert nft_listed_rules(4, NET, POD) == {
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
    six = nft_listed_rules(6, "fd00:10:244::/56", "fd00:10:244:1::/64", ip_masq=False)
    assert six == {
        "forward": [
            "ip6 saddr fd00:10:244::/56 accept",
            "ip6 daddr fd00:10:244::/56 accept",
        ]
    }


def test_nft_script_tables_chains_comments() -> None:
    # fact: flannel-footprint.md §2.5 (tables, chain hooks and comments)
    s = nft_script(4, NET, POD)
    assert 'add table ip flannel-ipv4 { comment "rules for flannel-ipv4" ; }' in s
    assert (
        "add chain ip flannel-ipv4 postrtg "
        "{ type nat hook postrouting priority srcnat ; "
        'comment "chain to manage traffic masquerading by flannel" ; }'
    ) in s
    assert (
        "add chain ip flannel-ipv4 forward "
        "{ type filter hook forward priority filter ; "
        'comment "chain to accept flannel traffic" ; }'
    ) in s
    assert "flush chain ip flannel-ipv4 postrtg" in s
    assert "add rule ip flannel-ipv4 postrtg meta mark 0x4000 return" in s
    assert "ip6" in nft_init_script() and "flannel-ipv6" in nft_init_script()
    assert nft_delete_script() == (
        "delete table ip flannel-ipv4\ndelete table ip6 flannel-ipv6\n"
    )
