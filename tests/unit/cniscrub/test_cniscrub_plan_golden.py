"""Golden planner tests: tests/fixtures/cniscrub/plan/<case>.json holds the raw
collection of a real sandbox node and the expected plan (actions, left alone, warnings,
fingerprint). Plus properties every plan must have, checked across all cases.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from cniscrub.inventory import parse_raw
from cniscrub.plan.model import Plan
from cniscrub.plan.planner import Policy, build_plan

FIXTURES = Path(__file__).parents[2] / "fixtures/cniscrub/plan"
CASES = sorted(p.stem for p in FIXTURES.glob("*.json"))
FOREIGN = (
    "KUBE-",
    "DOCKER",
    "podman",
    "br-user",
    "vxlan100",
    "87-podman",
    "INPUT -p tcp",
    "xtables.lock",
    "/opt/cni/bin/bridge",
)
FOREIGN_LINKS = {"eth0", "ul0", "br-user", "vxlan100", "lo"}


def _doc(case: str) -> dict[str, Any]:
    return json.loads((FIXTURES / f"{case}.json").read_text())  # type: ignore[no-any-return]


def _plan(doc: dict[str, Any]) -> Plan:
    return build_plan(parse_raw(doc["raw"], doc["notes"]), Policy(**doc["policy"]))


@pytest.mark.parametrize("case", CASES)
def test_plan_matches_golden(case: str) -> None:
    doc = _doc(case)
    plan = _plan(doc)
    exp = doc["expected"]
    assert [[a.phase, a.kind, a.key, a.target] for a in plan.actions] == exp["actions"]
    assert [list(x) for x in plan.left_alone] == exp["left_alone"]
    assert list(plan.warnings) == exp["warnings"]
    assert len(plan.attached_pods) == exp["attached_pods"]
    assert plan.fingerprint == exp["fingerprint"]


@pytest.mark.parametrize("case", CASES)
def test_no_action_touches_foreign_state(case: str) -> None:
    for a in _plan(_doc(case)).actions:
        assert a.evidence, a.target
        assert not any(f in a.target for f in FOREIGN), a.target
        assert not (a.kind == "link" and a.key in FOREIGN_LINKS), a.key


@pytest.mark.parametrize("case", CASES)
def test_plan_json_round_trips(case: str) -> None:
    plan = _plan(_doc(case))
    assert Plan.from_json(json.loads(json.dumps(plan.to_json()))) == plan


def test_empty_node_has_a_fingerprint_and_no_actions() -> None:
    # Terraform hashicorp/terraform#24078: an empty plan still needs an identity
    plan = _plan(_doc("empty-node"))
    assert plan.empty and len(plan.fingerprint) == 64


def test_old_unmarked_masq_only_with_proven_network() -> None:
    # fact: cleanup-anchors.md "Observed gaps" 1 (unmarked old flannel masq rules)
    doc = _doc("old-unmarked-masq")
    targets = [a.target for a in _plan(doc).actions if a.kind == "ipt_rule"]
    assert len(targets) == 4 and not any("10.99.0.0" in t for t in targets)
    stripped = copy.deepcopy(doc)  # without subnet.env the network is unproven
    stripped["raw"]["files"] = [
        f for f in stripped["raw"]["files"] if "flannel" not in f["path"]
    ]
    assert not [a for a in _plan(stripped).actions if a.kind == "ipt_rule"]


def test_cni0_kept_while_another_conf_uses_it() -> None:
    plan = _plan(_doc("cni0-shared-with-containerd"))
    assert not [a for a in plan.actions if a.key == "cni0" or "veth" in a.key]
    assert any(
        t.startswith("bridge cni0") and "20-containerd-net" in why
        for t, why in plan.left_alone
    )


def test_hostport_chains_kept_while_podman_uses_portmap() -> None:
    plan = _plan(_doc("v0.27-nft-foreign"))
    assert not [a for a in plan.actions if "HOSTPORT" in a.key]
    assert sum("CNI-HOSTPORT" in t for t, _ in plan.left_alone) == 2
    assert len(plan.attached_pods) == 2


def test_bad_input_never_widens() -> None:
    good, bad = _plan(_doc("v0.27-nft-foreign")), _plan(_doc("bad-input"))
    assert len(bad.warnings) >= 2
    allowed = (
        "/etc/cni/net.d/10-flannel.conflist",
        "/opt/cni/bin/flannel",
        "/run/flannel",
        "/var/lib/cni/flannel",
        "/var/lib/cni/networks/cbr0",
        "/var/lib/cni/results/cbr0-",
    )
    files = [a.key for a in bad.actions if a.kind == "file"]
    assert files and all(f.startswith(allowed) for f in files)
    assert {a.kind for a in bad.actions} <= {a.kind for a in good.actions}


def test_fingerprint_ignores_foreign_changes_but_not_flannel_ones() -> None:
    doc = _doc("v0.27-nft-foreign")
    base = _plan(doc).fingerprint
    foreign = copy.deepcopy(doc)
    ipt = next(
        i for i in foreign["raw"]["iptables"] if i["argv"][0].startswith("iptables-nft")
    )
    ipt["stdout"] = ipt["stdout"].replace(
        "COMMIT", "-A INPUT -p tcp --dport 443 -j ACCEPT\nCOMMIT", 1
    )
    assert _plan(foreign).fingerprint == base
    ours = copy.deepcopy(doc)
    ours["raw"]["files"] = [
        f for f in ours["raw"]["files"] if not f["path"].endswith("lock")
    ]
    assert _plan(ours).fingerprint != base


@pytest.mark.parametrize("case", CASES)
def test_one_iptables_transaction_per_table_and_backend(case: str) -> None:
    from cniscrub.apply.executor import batches

    keys = [
        g[0].data["resource"]["data"]
        for g in batches(_plan(_doc(case)).actions)
        if g[0].kind in ("ipt_rule", "ipt_chain")
    ]
    tables = [(d["backend"], d["family"], d["table"]) for d in keys]
    assert len(tables) == len(set(tables))


@pytest.mark.parametrize("case", CASES)
def test_rule_prefilter_never_changes_a_plan(case: str) -> None:
    """The footprint's cheap line pre-filter (used by the CLI) only skips parsing
    rules that cannot matter: the plan is identical with and without it."""
    from cniscrub import footprints

    doc = _doc(case)
    policy = Policy(**doc["policy"])
    keep = footprints.get(policy.cni).scope.rule_filter
    fast = build_plan(parse_raw(doc["raw"], doc["notes"], keep), policy)
    assert fast.to_json() == _plan(doc).to_json()


def test_rule_prefilter_keeps_every_kind_of_candidate() -> None:
    from cniscrub.footprints.flannel_netfilter import rule_candidate

    keep = [
        ("nat", "POSTROUTING", "-A POSTROUTING -s 10.244.0.0/16 -d 10.244.0.0/16 -j RETURN"),
        ("nat", "POSTROUTING", "-A POSTROUTING -j FLANNEL-POSTRTG"),
        ("filter", "FORWARD", '-A FORWARD -m comment --comment "flanneld forward" -j ACCEPT'),
        ("nat", "CNI-0123456789abcdef01234567", "-A CNI-0123456789abcdef01234567 -j ACCEPT"),
        ("nat", "PREROUTING", "-A PREROUTING -j CNI-HOSTPORT-DNAT"),
        ("filter", "my-Flannel-x", "-A my-Flannel-x -j DROP"),
    ]  # fmt: skip
    assert all(rule_candidate(*k) for k in keep)
    assert not rule_candidate("filter", "KUBE-SVC-A", "-A KUBE-SVC-A -j KUBE-SEP-B")
    assert not rule_candidate("nat", "PREROUTING", "-A PREROUTING -j KUBE-SERVICES")
