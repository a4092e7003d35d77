"""The kube-router agent's node footprint in real namespaces (two light nodes on one
underlay; fact: kube-router-footprint.md §2, §3.1, and the Appendix)."""

from __future__ import annotations

import json
import re
import time

import pytest
from kr_lab import ARGS, CONFLIST, Lab, Node, wait_for

pytestmark = pytest.mark.sandbox
REWRITTEN = (  # §2.1 for podCIDR 10.244.1.0/24 and a 1500-MTU NIC
    '{"cniVersion":"0.3.0","name":"mynet","plugins":[{"bridge":"kube-bridge",'
    '"ipam":{"ranges":[[{"subnet":"10.244.1.0/24"}]],"type":"host-local"},'
    '"isDefaultGateway":true,"mtu":1500,"name":"kubernetes","type":"bridge"}]}'
)
NETPOL = re.compile(r'-m comment --comment "kube-router netpol - [A-Z2-7]{16}" -j ')


def routes(node: Node, *args: str) -> list[str]:
    """``ip route show ARGS`` lines; a table that does not exist is empty."""
    out = node.net_exec(["ip", "route", "show", *args], check=False).stdout
    return [line.strip() for line in out.splitlines()]


def started(lab: Lab, *flags: str) -> tuple[Node, Node]:
    lab.install_cni_conf()
    n1, n2 = lab.nodes
    n1.start_agent(lab.state, *(flags or ARGS))
    n2.start_agent(lab.state, *(flags or ARGS))
    wait_for(lambda: "10.244.2.0/24 via 198.18.0.2 dev eth0 proto 17" in routes(n1),
             20, "the peer route")  # fmt: skip
    return n1, n2


def test_conf_bridge_rule_and_peer_route(lab: Lab) -> None:
    n1, _ = started(lab)
    # §2.1: the conf rewritten as one compact line with ranges and the NIC's MTU
    assert n1.read_file(CONFLIST).decode() == REWRITTEN
    # §2.2: kube-bridge up, MTU of the primary NIC, no address until a pod exists
    (br,) = n1.ipj("-d", "addr", "show", "kube-bridge")
    assert br["linkinfo"]["info_kind"] == "bridge"
    assert "UP" in br["flags"] and br["mtu"] == 1500
    assert [a for a in br["addr_info"] if a["family"] == "inet"] == []
    # §2.3: the policy rule (no explicit priority: 32765) and an empty table 77
    rules = [r for r in n1.ipj("rule") if r.get("table") == "77"]
    assert rules == [
        {"priority": 32765, "src": "10.244.1.0", "srclen": 24, "table": "77"}
    ]
    assert routes(n1, "table", "77") == []
    # §2.3: the peer's pod CIDR via its node IP, proto 17; none for our own CIDR
    assert "10.244.2.0/24 via 198.18.0.2 dev eth0 proto 17" in routes(n1)
    assert not [r for r in routes(n1) if r.startswith("10.244.1.0/24")]
    # §2.6: bridge-nf-call-iptables=1
    sysctl = n1.net_exec(["sysctl", "-n", "net.bridge.bridge-nf-call-iptables"])
    assert sysctl.stdout.strip() == "1"


def test_iptables_and_ipsets(lab: Lab) -> None:
    n1, _ = started(lab)
    filt, nat = n1.save("filter"), n1.save("nat")
    forward = [ln for ln in filt if ln.startswith("-A FORWARD")]
    # §2.4: netpol jump at position 1 (re-asserted), then the three ACCEPTs, each
    # inserted at position 1 in turn
    assert NETPOL.search(forward[0]) and forward[0].endswith("-j KUBE-ROUTER-FORWARD")
    assert [ln.split('"')[1] for ln in forward[1:]] == [
        "allow outbound node port traffic on node interface with which node ip is "
        "associated",
        "allow inbound traffic to pods",
        "allow outbound traffic from pods",
    ]
    for chain in ("INPUT", "OUTPUT"):
        first = next(ln for ln in filt if ln.startswith(f"-A {chain} "))
        assert NETPOL.search(first) and first.endswith(f"-j KUBE-ROUTER-{chain}")
    for chain in ("KUBE-ROUTER-INPUT", "KUBE-ROUTER-FORWARD", "KUBE-ROUTER-OUTPUT"):
        body = [ln for ln in filt if ln.startswith(f"-A {chain} ")]
        assert body[-1].endswith("-m mark --mark 0x20000/0x20000 -j ACCEPT")
    assert any("KUBE-NWPLCY-DEFAULT" in ln and "0x10000/0x10000" in ln for ln in filt)
    assert any(ln.startswith("-A KUBE-NWPLCY-COMMON") for ln in filt)
    # §2.4: the MASQUERADE rule, no comment
    assert [ln for ln in nat if ln.startswith("-A POSTROUTING")] == [
        "-A POSTROUTING -m set --match-set kube-router-pod-subnets src -m set ! "
        "--match-set kube-router-pod-subnets dst -m set ! --match-set "
        "kube-router-node-ips dst -j MASQUERADE --random-fully"
    ]
    # §2.5: the two sets (timeout 0) with every node's pod CIDR and IP; no TMP- left
    saved = n1.net_exec(["ipset", "save"]).stdout.splitlines()
    creates = {ln.split()[1]: ln for ln in saved if ln.startswith("create ")}
    assert sorted(creates) == ["kube-router-node-ips", "kube-router-pod-subnets"]
    assert "hash:net" in creates["kube-router-pod-subnets"]
    assert "hash:ip" in creates["kube-router-node-ips"]
    assert all("timeout 0" in ln for ln in creates.values())
    members = sorted(ln.split()[2] for ln in saved if ln.startswith("add "))
    assert members == ["10.244.1.0/24", "10.244.2.0/24", "198.18.0.1", "198.18.0.2"]


def test_listening_sockets(lab: Lab) -> None:
    # §2.6: BGP tcp/179 on the node IP, gRPC 127.0.0.1:50051, health :20244
    n1, _ = started(lab)
    out = n1.net_exec(["ss", "-Hltn"]).stdout
    local = {line.split()[3] for line in out.splitlines()}
    assert {"198.18.0.1:179", "127.0.0.1:50051", "0.0.0.0:20244"} <= local
    health = n1.net_exec(["python3", "-c", "import urllib.request as u; print(u.urlopen("
                          "'http://127.0.0.1:20244/healthz').status)"])  # fmt: skip
    assert health.stdout.strip() == "200"


def test_pods_on_two_nodes_reach_each_other(lab: Lab) -> None:
    # §2.2: the bridge plugin gives kube-bridge .1 on the first pod (#356); §2.3:
    # cross-node traffic over the proto-17 routes, real ICMP between pod namespaces
    n1, n2 = started(lab)
    ip1, ip2 = n1.add_pod("p1"), n2.add_pod("p2")
    assert ip1.startswith("10.244.1.") and ip2.startswith("10.244.2.")
    (br,) = n1.ipj("addr", "show", "kube-bridge")
    assert [a["local"] for a in br["addr_info"] if a["family"] == "inet"] == [
        "10.244.1.1"
    ]
    lab.running_pod(n1, "p1", ip1)
    lab.running_pod(n2, "p2", ip2)
    wait_for(lambda: any("KUBE-POD-FW-" in ln for ln in n2.save("filter")), 10,
             "pod firewall chains")  # fmt: skip
    n1.in_pod("p1", "ping", "-c", "2", "-W", "2", ip2)
    n2.in_pod("p2", "ping", "-c", "1", "-W", "2", ip1)


def test_pod_firewall_chains_are_renamed_on_each_full_sync(lab: Lab) -> None:
    # §2.4: one KUBE-POD-FW-* per local running pod with an IP; names change on
    # each full sync, old ones are deleted
    n1, _ = started(lab)

    def chains() -> list[str]:
        return sorted(ln[1:].split()[0] for ln in n1.save("filter")
                      if ln.startswith(":KUBE-POD-FW-"))  # fmt: skip

    assert chains() == []
    lab.running_pod(n1, "a", "10.244.1.50")
    first = wait_for(chains, 10, "a pod chain")
    assert len(first) == 1
    lab.running_pod(n1, "b", "10.244.1.51")
    wait_for(lambda: len(chains()) == 2, 10, "two pod chains")
    assert first[0] not in chains()
    filt = "\n".join(n1.save("filter"))
    assert "POD name:a namespace: default" in filt and "POD name:b namespace" in filt


def test_sigterm_removes_nothing(lab: Lab) -> None:
    # §4: only --cleanup-config removes kube-router state (and not all of it)
    lab.install_cni_conf()
    n1, _ = lab.nodes
    proc = n1.start_agent(lab.state, *ARGS)
    before = (n1.save("filter"), n1.save("nat"), routes(n1), n1.ipj("rule"))
    assert n1.stop_agent(proc) == 0
    after = (n1.save("filter"), n1.save("nat"), routes(n1), n1.ipj("rule"))
    assert after == before
    assert n1.ipj("link", "show", "kube-bridge")
    assert n1.net_exec(["ipset", "list", "-n"]).stdout.split() == [
        "kube-router-pod-subnets",
        "kube-router-node-ips",
    ]


def test_restart_converges_without_duplicates(lab: Lab) -> None:
    # §2.4 (rules inserted/appended only when missing), §3.1 (5) (CIDR added to
    # ranges unless present): a killed and restarted agent leaves the same state
    n1, _ = started(lab)
    lab.running_pod(n1, "a", "10.244.1.50")
    wait_for(
        lambda: any("POD name:a" in ln for ln in n1.save("filter")), 10, "pod chain"
    )
    proc = n1.procs[0]
    proc.kill()
    proc.wait(timeout=10)

    def shape() -> tuple[object, ...]:
        filt = [re.sub(r"KUBE-POD-FW-[A-Z2-7]{16}", "KUBE-POD-FW-*", ln)
                for ln in n1.save("filter")]  # fmt: skip
        return (filt, n1.save("nat"), routes(n1), n1.ipj("rule"))

    before = shape()
    n1.start_agent(lab.state, *ARGS)
    wait_for(lambda: shape() == before, 10, "the same state after a restart")
    assert n1.read_file(CONFLIST).decode() == REWRITTEN


def test_missing_conf_file_and_missing_pod_cidr_are_fatal(lab: Lab) -> None:
    n1, _ = lab.nodes
    # §3.1 (4): the conf named by KUBE_ROUTER_CNI_CONF_FILE must exist
    proc = n1.start_agent(lab.state, *ARGS, wait=False)
    assert proc.wait(timeout=30) != 0
    assert f"CNI conf file {CONFLIST} does not exist." in n1.log()
    # §3.1 (3): no pod CIDR on the Node: Fatalf, the pod CrashLoops
    lab.install_cni_conf()
    data = json.loads(lab.state.read_text())
    data["nodes"][0]["spec"] = {}
    lab.state.write_text(json.dumps(data))
    proc = n1.start_agent(lab.state, *ARGS, wait=False)
    assert proc.wait(timeout=30) != 0
    assert (
        "Failed to get pod CIDR from node spec. kube-router relies on "
        "kube-controller-manager to allocate pod CIDR" in n1.log()
    )


def test_annotation_pod_cidr_wins(lab: Lab) -> None:
    # §3.1 (1): kube-router.io/pod-cidr wins over spec.podCIDR
    lab.write_state({"node1": {"kube-router.io/pod-cidr": "10.244.99.0/24"}})
    lab.install_cni_conf()
    n1, n2 = lab.nodes
    n1.start_agent(lab.state, *ARGS)
    n2.start_agent(lab.state, *ARGS)
    conf = json.loads(n1.read_file(CONFLIST))
    assert conf["plugins"][0]["ipam"]["ranges"] == [[{"subnet": "10.244.99.0/24"}]]
    wait_for(lambda: "10.244.99.0/24 via 198.18.0.1 dev eth0 proto 17" in routes(n2),
             20, "the annotated CIDR routed on the peer")  # fmt: skip


def test_flannel_route_for_the_same_prefix_is_replaced(lab: Lab) -> None:
    # §2.3: RouteReplace; a Flannel route (via … dev flannel.1 onlink) for the same
    # prefix in the main table gets replaced [inferred in the reference]
    n1, _ = lab.nodes
    n1.ip("link", "add", "flannel.1", "type", "vxlan", "id", "1", "dev", "eth0",
          "local", "198.18.0.1", "dstport", "8472", "nolearning")  # fmt: skip
    n1.ip("link", "set", "flannel.1", "up")
    n1.ip("route", "add", "10.244.2.0/24", "via", "10.244.2.0", "dev", "flannel.1",
          "onlink")  # fmt: skip
    started(lab)
    assert [r for r in routes(n1) if r.startswith("10.244.2.0/24")] == [
        "10.244.2.0/24 via 198.18.0.2 dev eth0 proto 17"
    ]


def test_withdrawal_and_graceful_restart(lab: Lab) -> None:
    # §2.3: a peer whose session drops keeps its route while graceful restart holds
    # it (the manifest's --bgp-graceful-restart=true); a deleted Node's route is
    # withdrawn at once (dst + proto 17)
    n1, n2 = started(lab)
    n2.stop_agent(n2.procs[0])
    deadline = time.monotonic() + 3  # several syncs with the session down
    while time.monotonic() < deadline:
        assert "10.244.2.0/24 via 198.18.0.2 dev eth0 proto 17" in routes(n1)
        time.sleep(0.5)
    lab.nodes = [n1]  # node2's Node object is deleted
    lab.write_state()
    lab.nodes = [n1, n2]
    wait_for(lambda: not [r for r in routes(n1) if r.startswith("10.244.2.0/24")],
             10, "node2's route withdrawn")  # fmt: skip


def test_without_graceful_restart_a_lost_session_is_withdrawn(lab: Lab) -> None:
    # §2.3 with the binary's default (no --bgp-graceful-restart): at once
    flags = tuple(a for a in ARGS if "graceful" not in a)
    n1, n2 = started(lab, *flags)
    n2.stop_agent(n2.procs[0])
    wait_for(lambda: not [r for r in routes(n1) if r.startswith("10.244.2.0/24")],
             10, "node2's route withdrawn")  # fmt: skip


def test_overlay_off_means_no_table_77_rule(lab: Lab) -> None:
    # §2.3: the rule exists only with --enable-overlay=true; with it off it is removed
    n1, _ = started(lab)
    n1.stop_agent(n1.procs[0])
    assert [r for r in n1.ipj("rule") if r.get("table") == "77"]
    n1.start_agent(lab.state, *ARGS, "--enable-overlay=false")
    assert [r for r in n1.ipj("rule") if r.get("table") == "77"] == []
