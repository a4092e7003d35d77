"""Ownership needs more than a name, and network facts are cross-checked (issue 13,
classes 3 and 4), on real nodes with foreign state (kube-proxy and Docker chains, an
SSH rule, a podman conflist with IPAM, a user bridge, vxlan and routes).

Each case adds a look-alike or a lying fact next to real Flannel residue: apply must
leave the look-alike (the plan says "left alone: looks like Flannel's but …") and still
remove Flannel's own objects.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import csb_residue as residue
import pytest
from csb_nodebuilder import Node
from csb_state import diff, snapshot
from test_cniscrub_sandbox_apply import cli

pytestmark = [pytest.mark.sandbox, pytest.mark.timeout(240)]
Setup = Callable[[Node], None]


def _env(network: str) -> Setup:
    def setup(node: Node) -> None:
        text = residue.subnet_env(False).replace("10.244.0.0/16", network, 1)
        node.write("/run/flannel/subnet.env", text)

    return setup


def _routes(node: Node) -> None:
    """Foreign /24 routes a wide 'cluster network' would cover: main table via the
    underlay, another table, and kube-router's peer route (proto 17)."""
    node.ip("route", "add", "10.99.5.0/24", "via", "198.18.0.1", "dev", "eth0")
    node.ip("route", "add", "10.99.6.0/24", "via", "198.18.0.1", "table", "100")
    node.ip("route", "add", "10.244.9.0/24", "via", "198.18.0.9", "proto", "17")
    node.ip("route", "add", "10.244.8.0/24", "via", "198.18.0.8", "table", "100")


def _lookalike_vxlan(node: Node) -> None:
    node.ip("link", "add", "flannel.7", "type", "vxlan", "id", "7", "local",
            "198.18.0.2", "dstport", "4789")  # fmt: skip
    node.ip("addr", "add", "192.168.77.1/32", "dev", "flannel.7")


def _foreign_local_vxlan(node: Node) -> None:
    node.ip("link", "add", "flannel.9", "type", "vxlan", "id", "9", "local",
            "203.0.113.9", "dstport", "8472")  # fmt: skip


def _user_chain(node: Node) -> None:
    c = '-m comment --comment "flanneld masq"'
    rules = (
        f"*nat\n:USER-NAT - [0:0]\n-A USER-NAT -s 192.168.0.0/16 {c} -j RETURN\n"
        f"-A POSTROUTING -s 172.16.0.0/12 {c} -j MASQUERADE\n"
        "-A POSTROUTING -j USER-NAT\nCOMMIT\n"
    )
    node.ipt("legacy", 4, rules)


def _user_flannel_chain(node: Node) -> None:
    node.ipt("legacy", 4, "*filter\n:FLANNEL-FWD - [0:0]\n"
             "-A FLANNEL-FWD -s 192.168.50.0/24 -j ACCEPT\nCOMMIT\n")  # fmt: skip


def _user_nft_table(node: Node) -> None:
    node.nft("table ip6 flannel-ipv6 {\n chain forward {\n"
             "  type filter hook forward priority filter;\n"
             "  ip6 saddr fd99::/48 accept\n }\n}\n")  # fmt: skip


CASES: dict[str, tuple[list[Setup], list[str]]] = {
    # (setups after the Flannel residue, texts expected in the plan's left-alone lines)
    # fact: the 0.0.0.0/0 subnet.env of issue 13; FLANNEL-FWD rules still say /16
    "subnet.env claims 0.0.0.0/0": (
        [_env("0.0.0.0/0"), _routes],
        ["table 100", "proto"],
    ),
    "subnet.env wider than the rules": ([_env("10.0.0.0/8"), _routes], ["table 100"]),
    # fact: kube-router peer routes are proto 17 (kube-router-footprint.md §2.3)
    "kube-router routes": ([_routes], ["its protocol 17"]),
    "vxlan look-alike (port, address)": ([_lookalike_vxlan], ["UDP port 4789"]),
    "vxlan look-alike (local)": ([_foreign_local_vxlan], ["local address 203.0.113.9"]),
    "commented rules in a user chain": (
        [_user_chain],
        ["in chain USER-NAT", "172.16.0.0/12"],
    ),
    "user rules in a FLANNEL-* chain": (
        [_user_flannel_chain],
        ["has no flanneld comment"],
    ),
    "foreign network in flannel-ipv6": ([_user_nft_table], ["fd99::/48"]),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_lookalikes_and_lying_facts_are_left_alone(
    node: Node, tmp_path: Path, case: str
) -> None:
    setups, expected = CASES[case]
    residue.foreign(node)
    keep: dict[str, Any] = {}
    for setup in setups:
        setup(node)
    keep = snapshot(node, pods=False)
    residue.flannel(node, backend="nft", blackhole=True)
    planned = cli(node, tmp_path, "plan", "--cni", "flannel", "--json")
    plan = json.loads(planned.stdout)
    left = [f"{x['target']}: {x['why']}" for x in plan["left_alone"]]
    for text in expected:
        assert any(text in x and "looks like" in x for x in left), (text, left)
    applied = cli(
        node, tmp_path, "apply", "--cni", "flannel", "--yes", "--json", "--force"
    )
    assert json.loads(applied.stdout)["results"], applied.stderr
    after = snapshot(node, pods=False)
    for kind in ("links", "routes", "iptables", "nft"):
        assert diff({kind: keep[kind]}, {kind: after[kind]}) == {} or _only_flannel(
            keep[kind], after[kind]
        ), kind
    assert "flannel.1" not in repr(after["links"])  # Flannel's own device is gone


def _only_flannel(before: Any, after: Any) -> bool:
    """Everything of ``before`` is still in ``after`` (foreign state kept)."""
    if isinstance(before, dict):
        return all(_only_flannel(before[k], after.get(k, "")) for k in before)
    if isinstance(before, str):
        return all(line in after for line in before.splitlines())
    return all(item in after for item in before)


def test_conflicting_facts_narrow_the_claim_and_leave_the_node_unresolved(
    node: Node, tmp_path: Path
) -> None:
    """subnet.env and the rules name disjoint networks: nothing that depends on the
    cluster network is claimed, and verify does not say clean."""
    residue.foreign(node)
    residue.flannel(node, backend="nft", host_gw_mode=True, peers=3)
    _env("10.99.0.0/16")(node)
    node.ip("route", "add", "10.99.5.0/24", "via", "198.18.0.1", "dev", "eth0")
    doc = json.loads(cli(node, tmp_path, "plan", "--cni", "flannel", "--json").stdout)
    assert any("facts disagree" in w and "10.99.0.0/16" in w for w in doc["warnings"])
    assert any("facts disagree about network4" in u for u in doc["unresolved"])
    claimed = [a["target"] for a in doc["actions"] if a["kind"] == "route"]
    assert claimed == []  # neither the host-gw peers nor 10.99.5.0/24
    out = cli(node, tmp_path, "verify", "--cni", "flannel", "--json")
    assert out.returncode == 2 and json.loads(out.stdout)["clean"] is False
