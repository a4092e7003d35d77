"""Golden planner tests for ``--cni kube-router``: tests/fixtures/cniscrub/plan-kube-router/
<case>.json holds the raw collection of a real node the emulated kube-router set up
(capture_kube_router_fixtures.py) and the expected plan; plus the ownership rules
(kube-router-footprint.md §2) on variations of that inventory."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from cniscrub.inventory import parse_raw
from cniscrub.inventory.model import Inventory, Resource
from cniscrub.plan.model import Plan
from cniscrub.plan.planner import Policy, build_plan

FIXTURES = Path(__file__).parents[2] / "fixtures/cniscrub/plan-kube-router"
CASES = sorted(p.stem for p in FIXTURES.glob("*.json"))
FOREIGN = (  # kube-proxy, Docker, podman, operator and Flannel state
    "KUBE-SERVICES", "KUBE-FORWARD", "KUBE-FIREWALL", "KUBE-SVC-", "KUBE-SEP-",
    "KUBE-MARK", "KUBE-POSTROUTING", "KUBE-NODEPORTS", "KUBE-CLUSTER-IP",
    "KUBE-LOOP-BACK", "DOCKER", "docker0", "podman", "br-lab", "user-allow",
    "10.99.0.0", "198.51.100.0", "FLANNEL", "flannel", "cni0", "cbr0", "--dport 22",
    "/opt/cni/bin/",
)  # fmt: skip


def doc(case: str) -> dict[str, Any]:
    return json.loads((FIXTURES / f"{case}.json").read_text())  # type: ignore[no-any-return]


def inventory(case: str) -> Inventory:
    d = doc(case)
    return parse_raw(d["raw"], d["notes"])


def plan_of(inv: Inventory) -> Plan:
    return build_plan(inv, Policy("kube-router"))


def targets(plan: Plan, kind: str | None = None) -> list[str]:
    return [a.target for a in plan.actions if kind is None or a.kind == kind]


def left(plan: Plan) -> str:
    return "\n".join(f"{t}: {w}" for t, w in plan.left_alone)


def test_there_are_the_three_cases() -> None:
    assert set(CASES) >= {"clean", "kube-proxy-foreign", "flannel-leftovers"}


@pytest.mark.parametrize("case", CASES)
def test_plan_matches_golden(case: str) -> None:
    d, plan = doc(case), plan_of(inventory(case))
    exp = d["expected"]
    assert [[a.phase, a.kind, a.key, a.target] for a in plan.actions] == exp["actions"]
    assert [list(x) for x in plan.left_alone] == exp["left_alone"]
    assert list(plan.warnings) == exp["warnings"]
    assert len(plan.attached_pods) == exp["attached_pods"]
    assert plan.fingerprint == exp["fingerprint"]


@pytest.mark.parametrize("case", CASES)
def test_never_foreign_state(case: str) -> None:
    plan = plan_of(inventory(case))
    for a in plan.actions:
        assert a.evidence, a.target
        assert not any(f in a.target for f in FOREIGN), a.target
        assert not (a.kind == "link" and a.key in {"eth0", "lo", "docker0", "br-lab"})
    assert Plan.from_json(json.loads(json.dumps(plan.to_json()))) == plan


@pytest.mark.parametrize("case", CASES)
def test_the_whole_footprint_is_claimed(case: str) -> None:
    plan = plan_of(inventory(case))
    chains = {t.split()[1] for t in targets(plan, "ipt_chain")}
    # §2.4: the top-level chains, DEFAULT/COMMON, one pod chain; their three jumps
    assert {"KUBE-ROUTER-INPUT", "KUBE-ROUTER-FORWARD", "KUBE-ROUTER-OUTPUT",
            "KUBE-NWPLCY-DEFAULT", "KUBE-NWPLCY-COMMON"} <= chains  # fmt: skip
    assert sum(c.startswith("KUBE-POD-FW-") for c in chains) == 1
    rules = targets(plan, "ipt_rule")
    assert sum("kube-router netpol - " in t for t in rules) == 3
    assert sum("allow " in t and "-j ACCEPT" in t for t in rules) == 3  # FORWARD x3
    assert sum("MASQUERADE" in t for t in rules) == 1
    # §2.5 sets, §2.3 route and rule, §2.2 bridge and veth, §2.1 files
    assert sorted(targets(plan, "ipset"))[0].startswith("ipset kube-router-node-ips")
    assert len(targets(plan, "ipset")) == 2
    assert targets(plan, "route") == ["route 10.244.2.0/24 via 198.18.0.2 proto 17"]
    (rule,) = targets(plan, "ip_rule")
    assert rule.endswith(": from 10.244.1.0/24 lookup 77")
    assert {"bridge kube-bridge"} <= set(targets(plan, "link"))
    assert "file /etc/cni/net.d/10-kuberouter.conflist" in targets(plan, "file")
    assert "directory /var/lib/cni/networks/mynet" in targets(plan, "file")
    assert len(plan.attached_pods) == 1
    order = [a.kind for a in plan.actions]  # ipsets only after every rule using them
    assert max(i for i, k in enumerate(order) if k.startswith("ipt")) < order.index(
        "ipset"
    )


def test_operator_rule_to_table_77_is_left_alone() -> None:
    # §2.3: kube-router's rule is `from <its pod CIDR> lookup 77`; another source is not
    plan = plan_of(inventory("kube-proxy-foreign"))
    assert (
        "from 10.99.0.0/24 lookup 77: table 77, but its source is not proven"
        in left(plan)
    )


def edit(inv: Inventory, kind: str, fn: Any) -> Inventory:
    out = copy.deepcopy(inv)
    out.resources[kind] = [fn(r) for r in out.of(kind)]
    out.resources[kind] = [r for r in out.resources[kind] if r is not None]
    return out


def add(inv: Inventory, *items: Resource) -> Inventory:
    out = copy.deepcopy(inv)
    out.add(items)
    return out


def conf(path: str, name: str, bridge: str) -> Resource:
    body = {"name": name, "cniVersion": "0.4.0",
            "plugins": [{"type": "bridge", "bridge": bridge}]}  # fmt: skip
    return Resource("file", path, {"path": path, "type": "file", "conf": body})


def test_a_set_a_staying_rule_uses_is_left_alone() -> None:
    # never break a rule that stays: destroy would fail "in use" (§2.5 set names)
    inv = inventory("clean")
    spec = "-m set --match-set kube-router-node-ips src -j ACCEPT"
    rule = Resource("ipt_rule", "nft:4:filter:INPUT:9", {
        "backend": "nft", "family": 4, "table": "filter", "chain": "INPUT", "pos": 9,
        "spec": spec, "tokens": spec.split(), "jump": "ACCEPT", "comment": None,
        "source": None, "dest": None, "not_source": False, "not_dest": False})  # fmt: skip
    plan = plan_of(add(inv, rule))
    assert "ipset kube-router-node-ips" in left(plan)
    assert not [t for t in targets(plan, "ipset") if "node-ips" in t]
    assert [t for t in targets(plan, "ipset") if "pod-subnets" in t]


def test_bridge_or_network_another_conf_uses_is_left_alone() -> None:
    inv = inventory("clean")
    other = conf("/etc/cni/net.d/99-other.conflist", "mynet", "kube-bridge")
    plan = plan_of(add(inv, other))
    assert (
        "bridge kube-bridge and its ports: still used by /etc/cni/net.d/99-other"
        in left(plan)
    )
    assert not targets(plan, "link")
    assert "directory /var/lib/cni/networks/mynet: used by" in left(plan)
    assert not [t for t in targets(plan, "file") if "mynet" in t]


def test_without_conf_mynet_needs_proof_from_its_leases() -> None:
    # §2.1: "mynet" is a generic name; with no kube-router conf the store is kube-router's
    # only when its leases lie in a proven kube-router pod CIDR (here: the ipset)
    inv = edit(inventory("clean"), "file",
               lambda r: None if "10-kuberouter" in r.key else r)  # fmt: skip
    assert [t for t in targets(plan_of(inv)) if "networks/mynet" in t]
    no_sets = edit(inv, "ipset", lambda r: None)
    no_proof = edit(no_sets, "address", lambda r: None)
    plan = plan_of(no_proof)
    assert not [t for t in targets(plan) if "networks/mynet" in t]
    assert "no kube-router conf names it" in left(plan)


def test_tunnels_by_their_derived_name() -> None:
    # §2.2: tun-<sha256(remote without dots)[:11]> (v2.0+) or tun-<ip>/tun<ip> before
    def link(name: str, remote: str, index: int) -> Resource:
        return Resource("link", name, {
            "index": index, "name": name, "kind": "ipip", "mac": None, "mtu": 1480,
            "up": True, "group": 0, "master": None, "peer": None, "peer_netnsid": None,
            "slave_kind": None, "master_name": None,
            "tunnel": {"local": "192.168.56.11", "remote": remote}})  # fmt: skip

    inv = add(inventory("clean"),
              link("tun-c19cfa43d19", "192.168.56.12", 901),
              link("tun192168100101", "192.168.100.101", 902),
              link("tun-c19cfa43d19x", "192.168.56.12", 903),
              link("tun-0123456789a", "192.168.56.13", 904))  # fmt: skip
    plan = plan_of(inv)
    owned = targets(plan, "link")
    assert (
        "ipip device tun-c19cfa43d19" in owned
        and "ipip device tun192168100101" in owned
    )
    assert "link tun-0123456789a (ipip)" in left(plan)
    assert not any("tun-c19cfa43d19x" in t or "tun-0123456789a" in t for t in owned)


def test_a_kubeconfig_file_for_kube_router_stays() -> None:
    # §1: the kubeadm manifest mounts /var/lib/kube-router/kubeconfig; an empty
    # directory is what a runtime makes for it, a file is the operator's
    inv = inventory("clean")
    assert "directory /var/lib/kube-router/kubeconfig" in targets(plan_of(inv), "file")
    as_file = edit(inv, "file", lambda r: Resource(r.kind, r.key, {**r.data, "type": "file"})
                   if r.key == "/var/lib/kube-router/kubeconfig" else r)  # fmt: skip
    plan = plan_of(as_file)
    assert not [t for t in targets(plan) if "/var/lib/kube-router" in t]
    assert "a kubeconfig someone placed for kube-router" in left(plan)


def test_a_running_agent_blocks() -> None:
    cmdline = "/usr/local/bin/kube-router --run-router=true"
    proc = Resource(
        "process", "7", {"pid": 7, "comm": "kube-router", "cmdline": cmdline}
    )
    assert plan_of(add(inventory("clean"), proc)).blockers


def test_what_could_not_be_inspected_is_unresolved() -> None:
    # never a false clean: an unread conf dir or unreadable ipsets leave the node
    # unresolved (and an unread entry is never claimed as a file)
    unread = Resource("file", "/etc/cni/net.d/", {"path": "/etc/cni/net.d/",
                      "type": "unread", "error": "not inspected: EACCES"})  # fmt: skip
    inv = add(inventory("clean"), unread)
    inv.notes.append(
        "ipsets not inspected: NetlinkError: (1, 'Operation not permitted')"
    )
    plan = plan_of(inv)
    assert any("/etc/cni/net.d: not inspected" in u for u in plan.unresolved)
    assert any(u.startswith("ipsets not inspected") for u in plan.unresolved)
    assert "file /etc/cni/net.d/" not in targets(plan)
    assert not plan.clean and plan_of(inventory("clean")).unresolved == ()
