"""host-gw backend and IPv6 dual-stack vxlan, in real namespaces.

Facts: flannel-footprint.md §2.2 (MTU, v6 keys), §2.3 (host-gw routes, flannel-v6.1),
§2.4 (ip6tables rules).
"""

from __future__ import annotations

import json

import pytest
from flannel_lab import (
    ANN,
    Lab,
    cni,
    install_plugin,
    ipj,
    link,
    peer_of,
    save,
    sh,
    wait_for,
)

pytestmark = pytest.mark.sandbox
HOSTGW = {"Network": "10.244.0.0/16", "Backend": {"Type": "host-gw"}}
DUAL = {
    "Network": "10.244.0.0/16",
    "EnableIPv6": True,
    "IPv6Network": "fd00:10:244::/56",
    "Backend": {"Type": "vxlan"},
}


def test_hostgw_routes_per_peer_and_recheck(lab: Lab) -> None:
    # fact: flannel-footprint.md §2.3 host-gw (route via peer IP, 10 s check, removal)
    n1, n2 = lab.nodes
    for n in (n1, n2):
        n.start_flanneld("v0.27.3", HOSTGW)
    assert link(n1, "flannel.1") is None  # no device
    assert n1.annotations()[ANN + "backend-data"] == "null"
    assert "FLANNEL_MTU=1500\n" in n1.subnet_env.read_text()  # iface MTU
    n1.write_state([peer_of(n2)])
    n2.write_state([peer_of(n1)])

    def route() -> list[dict[str, object]]:
        return list(ipj(n1, "route", "show", "10.244.2.0/24"))

    wait_for(route, 10, "host-gw route")
    assert [(r["gateway"], r["dev"]) for r in route()] == [("198.18.0.2", "eth0")]
    # real traffic over the underlay, no encapsulation
    install_plugin(lab, "v1.7.1-flannel1")
    pods = [lab.add_netns("pod-1"), lab.add_netns("pod-2")]
    ips = []
    for node, pod, cid in zip((n1, n2), pods, ("1" * 64, "2" * 64), strict=True):
        proc = cni(lab, node, "ADD", cid, pod)
        assert proc.rc == 0, proc.stdout + proc.stderr
        ips.append(json.loads(proc.stdout)["ips"][0]["address"].split("/")[0])
    ping = sh(
        ["ip", "netns", "exec", pods[0], "ping", "-c", "1", "-W", "2", ips[1]],
        check=False,
        timeout=20,
    )
    assert ping.returncode == 0, ping.stdout
    n1.net_exec(["ip", "route", "del", "10.244.2.0/24"])
    wait_for(route, 15, "route re-added by the 10 s check")
    n1.write_state([])
    wait_for(lambda: not route(), 10, "route removed with the peer")


def test_dual_stack_vxlan(lab: Lab) -> None:
    # fact: flannel-footprint.md §2.3 (flannel-v6.1, /128), §2.2 (v6 keys),
    # §2.4 (ip6tables)
    n1, n2 = lab.nodes
    for n in (n1, n2):
        n.start_flanneld("v0.27.3", DUAL)
    n1.write_state([peer_of(n2, dual=True)], dual=True)
    dev6 = link(n1, "flannel-v6.1")
    assert dev6 is not None
    assert dev6["linkinfo"]["info_data"]["id"] == 1
    assert dev6["linkinfo"]["info_data"]["local6"] == "fd00:198:18::1"
    addrs = ipj(n1, "-6", "addr", "show", "dev", "flannel-v6.1", "scope", "global")
    assert [
        (a["local"], a["prefixlen"]) for a in addrs[0]["addr_info"] if "local" in a
    ] == [("fd00:10:244:1::", 128)]
    assert n1.subnet_env.read_text().splitlines() == [
        "FLANNEL_NETWORK=10.244.0.0/16",
        "FLANNEL_SUBNET=10.244.1.1/24",
        "FLANNEL_IPV6_NETWORK=fd00:10:244::/56",
        "FLANNEL_IPV6_SUBNET=fd00:10:244:1::1/64",
        "FLANNEL_MTU=1450",
        "FLANNEL_IPMASQ=true",
    ]
    ann = n1.annotations()
    assert ann[ANN + "public-ipv6"] == "fd00:198:18::1"
    assert json.loads(ann[ANN + "backend-v6-data"])["VtepMAC"] == dev6["address"]
    m = '-m comment --comment "flanneld masq"'
    nat6 = save(n1, "nat", 6)
    assert f"-A POSTROUTING {m} -j FLANNEL-POSTRTG" in nat6
    masq = "-j MASQUERADE --random-fully"
    assert f"-A FLANNEL-POSTRTG -s fd00:10:244::/56 ! -d ff00::/8 {m} {masq}" in nat6
    assert len(save(n1, "filter", 6)) == 4

    def route6() -> list[dict[str, object]]:
        return ipj(n1, "-6", "route", "show", "fd00:10:244:2::/64")

    wait_for(route6, 10, "v6 peer route")
    r = route6()[0]
    assert (r["gateway"], r["dev"], r["flags"]) == (
        "fd00:10:244:2::",
        "flannel-v6.1",
        ["onlink"],
    )
    neigh = ipj(n1, "-6", "neigh", "show", "dev", "flannel-v6.1")
    mac6 = json.loads(n2.annotations()[ANN + "backend-v6-data"])["VtepMAC"]
    assert [(x["dst"], x["lladdr"], x["state"]) for x in neigh] == [
        ("fd00:10:244:2::", mac6, ["PERMANENT"])
    ]


def test_dual_stack_pod_ping_v4_and_v6(lab: Lab) -> None:
    # fact: flannel-footprint.md §3.2 (v6 range + route in the delegate), §2.3
    # (flannel-v6.1 peers): IPv6 pod traffic crosses nodes over flannel-v6.1
    n1, n2 = lab.nodes
    for n in (n1, n2):
        n.start_flanneld("v0.27.3", DUAL)
    n1.write_state([peer_of(n2, dual=True)], dual=True)
    n2.write_state([peer_of(n1, dual=True)], dual=True)
    install_plugin(lab, "v1.7.1-flannel1")
    pods = [lab.add_netns("pod-1"), lab.add_netns("pod-2")]
    addrs: list[dict[int, str]] = []
    for node, pod, cid in zip((n1, n2), pods, ("1" * 64, "2" * 64), strict=True):
        proc = cni(lab, node, "ADD", cid, pod)
        assert proc.rc == 0, proc.stdout + proc.stderr
        ips = json.loads(proc.stdout)["ips"]
        addrs.append(
            {
                4 if ":" not in i["address"] else 6: i["address"].split("/")[0]
                for i in ips
            }
        )
    assert addrs[1][6].startswith("fd00:10:244:2:")
    wait_for(
        lambda: ipj(n1, "-6", "route", "show", "fd00:10:244:2::/64"), 10, "v6 route"
    )
    for family in (4, 6):
        argv = [
            "ip",
            "netns",
            "exec",
            pods[0],
            "ping",
            f"-{family}",
            "-c",
            "1",
            "-W",
            "2",
        ]
        ok = wait_for(
            lambda a=argv, f=family: (
                sh([*a, addrs[1][f]], check=False, timeout=20).returncode == 0
            ),
            15,
            f"IPv{family} pod ping",
        )
        assert ok
