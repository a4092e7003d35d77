"""flanneld emulation variants on real namespaces: device reuse/recreate/watch,
no ``--ip-masq``, fully-random switch, healthz.

Facts: flannel-footprint.md §2.1 (flags), §2.3 (device reuse, addresses, watch),
§2.4 (rules), §3.2 + §4 (bridge ipMasq chains), §1.3 (healthz probes).
"""

from __future__ import annotations

import sys
import time

import pytest
from flannel_lab import NETCONF, Lab, cni, install_plugin, ipj, link, save, wait_for

pytestmark = pytest.mark.sandbox


def test_incompatible_device_is_recreated(lab: Lab) -> None:
    # fact: flannel-footprint.md §2.3 ("already exists with incompatible configuration")
    n1, _ = lab.nodes
    n1.net_exec(
        ["ip", "link", "add", "flannel.1", "type", "vxlan", "id", "2", "dstport", "0"]
    )
    n1.start_flanneld("v0.27.3", NETCONF)
    dev = link(n1, "flannel.1")
    assert dev is not None and dev["linkinfo"]["info_data"]["id"] == 1
    assert '"flannel.1" already exists with incompatible configuration' in n1.log()


def test_compatible_device_reused_and_foreign_network_addresses_removed(
    lab: Lab,
) -> None:
    # fact: flannel-footprint.md §2.3 (reused if compatible; other in-Network addrs go)
    n1, _ = lab.nodes
    proc = n1.start_flanneld("v0.27.3", NETCONF)
    ifindex = link(n1, "flannel.1")["ifindex"]  # type: ignore[index]
    n1.stop(proc)
    n1.net_exec(["ip", "addr", "add", "10.244.7.0/32", "dev", "flannel.1"])
    n1.net_exec(["ip", "addr", "add", "192.0.2.1/32", "dev", "flannel.1"])
    n1.start_flanneld("v0.27.3", NETCONF)
    assert link(n1, "flannel.1")["ifindex"] == ifindex  # type: ignore[index]
    info = ipj(n1, "-4", "addr", "show", "dev", "flannel.1")[0]["addr_info"]
    assert sorted(a["local"] for a in info) == ["10.244.1.0", "192.0.2.1"]


@pytest.mark.parametrize(
    ("version", "recreated"), [("v0.27.3", False), ("v0.27.4", True)]
)
def test_vxlan_device_watch(lab: Lab, version: str, recreated: bool) -> None:
    # fact: flannel-footprint.md §2.3 (watchVXLANDevice from v0.27.4)
    n1, _ = lab.nodes
    n1.start_flanneld(version, NETCONF)
    mac = link(n1, "flannel.1")["address"]  # type: ignore[index]
    n1.net_exec(["ip", "link", "del", "flannel.1"])
    if recreated:
        wait_for(lambda: link(n1, "flannel.1"), 12, "flannel.1 recreated")
        assert link(n1, "flannel.1")["address"] == mac  # type: ignore[index]
    else:
        time.sleep(6.5)  # more than one 5 s resync tick
        assert link(n1, "flannel.1") is None


def test_without_ip_masq_bridge_masquerades(lab: Lab) -> None:
    # fact: flannel-footprint.md §2.4 (FLANNEL-FWD without --ip-masq), §3.2
    # (ipMasq = !FLANNEL_IPMASQ), §4 (bridge CNI-<hash> chain with its comment)
    n1, _ = lab.nodes
    n1.start_flanneld("v0.27.3", NETCONF, flags=("--kube-subnet-mgr",))
    assert save(n1, "nat") == []
    assert len(save(n1, "filter")) == 4
    assert "FLANNEL_IPMASQ=false\n" in n1.subnet_env.read_text()
    install_plugin(lab, "v1.7.1-flannel1")
    pod = lab.add_netns("pod-a")
    cid = "d" * 64
    proc = cni(lab, n1, "ADD", cid, pod)
    assert proc.rc == 0, proc.stdout + proc.stderr
    nat = n1.net_exec(["iptables-save", "-t", "nat"]).stdout
    chain = [
        ln for ln in nat.splitlines() if ln.startswith("-A POSTROUTING -s 10.244.1.")
    ]
    assert len(chain) == 1
    assert f'--comment "name: \\"cbr0\\" id: \\"{cid}\\"" -j CNI-' in chain[0]


def test_fully_random_disable(lab: Lab) -> None:
    # fact: flannel-footprint.md §2.4 (--random-fully unless disabled)
    n1, _ = lab.nodes
    flags = ("--ip-masq", "--kube-subnet-mgr", "--ip-masq-fully-random-disable")
    n1.start_flanneld("v0.27.3", NETCONF, flags=flags)
    nat = save(n1, "nat")
    assert len([ln for ln in nat if "MASQUERADE" in ln]) == 2
    assert not any("--random-fully" in ln for ln in nat)


def test_healthz_and_readyz_v0289(lab: Lab) -> None:
    # fact: flannel-footprint.md §1.3 (v0.28.9 --healthz-port=8081, /healthz, /readyz)
    n1, _ = lab.nodes
    flags = ("--ip-masq", "--kube-subnet-mgr", "--healthz-port=8081")
    n1.start_flanneld("v0.28.9", NETCONF, flags=flags)
    code = (
        "import urllib.request as u\n"
        "for p in ('/healthz', '/readyz'):\n"
        "    print(u.urlopen('http://127.0.0.1:8081' + p, timeout=5).status)\n"
    )
    out = n1.net_exec([sys.executable, "-c", code]).stdout.split()
    assert out == ["200", "200"]


@pytest.mark.parametrize("iface", ["eth0", "198.18.0.1"])
def test_iface_flag_by_name_or_address(lab: Lab, iface: str) -> None:
    # fact: flannel-footprint.md §2.3 (VtepDevIndex = external interface, local = its IP)
    n1, _ = lab.nodes
    n1.net_exec(
        ["ip", "route", "del", "default"]
    )  # --iface does not need a default route
    flags = ("--ip-masq", "--kube-subnet-mgr", f"--iface={iface}")
    n1.start_flanneld("v0.27.3", NETCONF, flags=flags)
    data = link(n1, "flannel.1")["linkinfo"]["info_data"]  # type: ignore[index]
    assert (data["link"], data["local"]) == ("eth0", "198.18.0.1")
