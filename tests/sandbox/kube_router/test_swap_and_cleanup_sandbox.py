"""kube-router next to Flannel's leftovers, and ``kube-router --cleanup-config``, in
real namespaces (fact: kube-router-footprint.md §3.3, §4)."""

from __future__ import annotations

import sys

import pytest
from kr_lab import ARGS, CONFLIST, REPO, Lab, Node, wait_for

pytestmark = pytest.mark.sandbox
KUBE_PROXY = """*filter
:KUBE-FORWARD - [0:0]
-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT
-A FORWARD -m comment --comment "kubernetes forwarding rules" -j KUBE-FORWARD
-A FORWARD -m set --match-set user-allow src -j ACCEPT
COMMIT
*nat
:KUBE-POSTROUTING - [0:0]
-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING
COMMIT
"""


def route_dev(node: Node, ip: str) -> str:
    (route,) = node.ipj("route", "get", ip)
    return str(route["dev"])


def up(lab: Lab) -> tuple[Node, Node]:
    lab.install_cni_conf()
    n1, n2 = lab.nodes
    n1.start_agent(lab.state, *ARGS)
    n2.start_agent(lab.state, *ARGS)
    return n1, n2


def test_cni0_keeps_the_gateway_route_until_it_is_deleted(lab: Lab) -> None:
    # §3.3 [tested]: with cni0 still holding 10.244.X.1/24 (no ports, linkdown) the
    # bridge plugin puts the same address on kube-bridge; `ip route get` still
    # resolves to cni0 and pod traffic is black-holed until `ip link delete cni0`
    n1, n2 = lab.nodes
    n1.ip("link", "add", "cni0", "type", "bridge")
    n1.ip("addr", "add", "10.244.1.1/24", "dev", "cni0")
    n1.ip("link", "set", "cni0", "up")
    n1, n2 = up(lab)
    ip1 = n1.add_pod("p1")
    (br,) = n1.ipj("addr", "show", "kube-bridge")
    assert [a["local"] for a in br["addr_info"] if a["family"] == "inet"] == [
        "10.244.1.1"
    ]
    assert route_dev(n1, ip1) == "cni0"
    assert not n1.net_exec(["ping", "-c", "1", "-W", "1", ip1], check=False).ok
    n1.ip("link", "delete", "cni0")
    assert route_dev(n1, ip1) == "kube-bridge"
    n1.net_exec(["ping", "-c", "1", "-W", "2", ip1])
    ip2 = n2.add_pod("p2")
    n2.in_pod("p2", "ping", "-c", "1", "-W", "2", ip1)
    assert ip2.startswith("10.244.2.")


def test_flannel_conflist_survives_and_sorts_first(lab: Lab) -> None:
    # §3.3: the init container removes nothing (Flannel's file is a .conflist) and
    # kube-router starts cleanly next to it; §3.2: 10-flannel.conflist < 10-kuberouter
    n1 = lab.nodes[0]
    n1.write_file("/etc/cni/net.d/10-flannel.conflist", '{"name": "cbr0"}')
    up(lab)
    files = sorted(n1.exec(["ls", "/etc/cni/net.d"]).stdout.split())
    assert files == ["10-flannel.conflist", "10-kuberouter.conflist"]
    assert n1.ipj("link", "show", "kube-bridge")
    assert b'"ranges"' in n1.read_file(CONFLIST)


def test_cleanup_config_removes_part_of_the_state(lab: Lab) -> None:
    # §4: netpol chains and jumps, the MASQUERADE rule and *every* ipset that is not
    # in use go; kube-bridge, proto-17 routes, the table-77 rule, the FORWARD
    # ACCEPTs and the conflist stay; kube-proxy's KUBE-* chains are untouched
    n1, _ = lab.nodes
    n1.net_exec(["ipset", "create", "user-allow", "hash:net"])
    n1.net_exec(["ipset", "create", "user-unused", "hash:ip"])
    n1.net_exec(["iptables-restore", "--noflush", "-w"], input=KUBE_PROXY)
    up(lab)
    lab.running_pod(n1, "a", "10.244.1.50")
    wait_for(lambda: any("KUBE-POD-FW-" in ln for ln in n1.save("filter")), 10, "pods")
    wait_for(lambda: "proto 17" in n1.net_exec(["ip", "route"]).stdout, 20, "routes")
    for proc in n1.procs:
        n1.stop_agent(proc)
    argv = [sys.executable, "-m", "harness.emulation.kube_router.standalone",
            str(lab.state), "v2.11.1", "--cleanup-config"]  # fmt: skip
    res = n1.exec(argv, check=False, env={"PYTHONPATH": str(REPO)})
    assert res.rc == 0, res.stderr
    filt, nat = "\n".join(n1.save("filter")), "\n".join(n1.save("nat"))
    for gone in ("KUBE-ROUTER-", "KUBE-NWPLCY-", "KUBE-POD-FW-", "MASQUERADE"):
        assert gone not in filt + nat
    assert n1.net_exec(["ipset", "list", "-n"]).stdout.split() == ["user-allow"]
    for kept in ("KUBE-FORWARD", "KUBE-POSTROUTING", "--dport 22", "allow inbound "
                 "traffic to pods", "allow outbound traffic from pods"):  # fmt: skip
        assert kept in filt + nat
    assert n1.ipj("link", "show", "kube-bridge")
    assert (
        "10.244.2.0/24 via 198.18.0.2 dev eth0 proto 17"
        in n1.net_exec(["ip", "route"]).stdout
    )
    assert [r for r in n1.ipj("rule") if r.get("table") == "77"]
    assert b'"ranges"' in n1.read_file(CONFLIST)
