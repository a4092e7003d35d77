"""The inventory kinds kube-router needs -- policy rules and ipsets -- on goldens
captured from a real node the emulated kube-router set up
(kube-router-footprint.md §2.3, §2.5), and the apply pieces that act on them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from cniscrub.apply.ipset_ops import restorable
from cniscrub.apply.rule_ops import rule_args
from cniscrub.inventory import PARSERS

FIXTURES = Path(__file__).parents[2] / "fixtures/cniscrub/inventory"


def parsed(kind: str, case: str) -> dict[str, dict[str, Any]]:
    doc = json.loads((FIXTURES / kind / f"kube-router-{case}.json").read_text())
    return {r.key: r.data for r in PARSERS[kind](json.loads(doc["stdout"]))}


def test_the_table_77_rule_parses_with_its_kernel_priority() -> None:
    # §2.3: from <podCIDR> lookup 77, no explicit priority -> 32765 on a default set
    rules = parsed("rules", "clean")
    ours = [d for d in rules.values() if d["table"] == 77]
    assert ours == [{
        "family": 4, "priority": 32765, "table": 77, "action": "to_tbl",
        "src": "10.244.1.0/24", "dst": None, "tos": 0, "fwmark": None, "fwmask": None,
        "iif": None, "oif": None, "goto": None, "protocol": ours[0]["protocol"],
        "invert": False,
    }]  # fmt: skip
    assert {d["table"] for d in rules.values()} >= {255, 254, 253}  # local/main/default


def test_ipsets_with_members_and_options() -> None:
    # §2.5: hash:net pod subnets and hash:ip node IPs, timeout 0
    sets = parsed("ipsets", "clean")
    pods, nodes = sets["kube-router-pod-subnets"], sets["kube-router-node-ips"]
    assert (pods["type"], nodes["type"]) == ("hash:net", "hash:ip")
    assert [m["entry"] for m in pods["members"]] == ["10.244.1.0/24", "10.244.2.0/24"]
    assert [m["entry"] for m in nodes["members"]] == ["198.18.0.1", "198.18.0.2"]
    # the MASQUERADE rule matches the pod set twice (src, ! dst), node IPs once
    assert pods["options"]["timeout"] == 0 and pods["references"] == 2
    assert nodes["references"] == 1
    foreign = parsed("ipsets", "kube-proxy-foreign")
    assert foreign["KUBE-CLUSTER-IP"]["members"] == [{"entry": "10.96.0.10,tcp:53"}]
    assert foreign["KUBE-CLUSTER-IP"]["references"] == 1


def test_restorable_sets_and_rule_selectors() -> None:
    sets = parsed("ipsets", "kube-proxy-foreign")
    assert restorable(sets["kube-router-pod-subnets"]) is None
    assert restorable(sets["KUBE-CLUSTER-IP"]) is None
    assert "cannot be re-created" in str(restorable({"type": "bitmap:port"}))
    rule = next(d for d in parsed("rules", "kube-proxy-foreign").values()
                if d["src"] == "192.0.2.0/24")  # fmt: skip
    assert rule_args(rule) == {"family": 2, "priority": 1000, "action": "to_tbl",
                               "table": 100, "src": "192.0.2.0", "src_len": 24}  # fmt: skip
