"""The flannel CNI plugin with the REAL bridge/host-local plugins, and pod traffic.

Facts: flannel-footprint.md §3.2-§3.4 (delegate, scratch file, errors), §4 (cni0).
"""

from __future__ import annotations

import json
import stat

import pytest
from flannel_lab import (
    NETCONF,
    Lab,
    cni,
    install_plugin,
    ipj,
    link,
    peer_of,
    wait_for,
)

pytestmark = pytest.mark.sandbox
MISSING = "open /run/flannel/subnet.env: no such file or directory"


@pytest.mark.parametrize(
    ("plugin", "expected"),
    [  # fact: flannel-footprint.md §3.4
        ("v1.4.0-flannel1", f"loadFlannelSubnetEnv failed: {MISSING}"),
        ("v1.7.1-flannel1", f"loadFlannelSubnetEnv failed: {MISSING}"),
        (
            "v1.8.0-flannel1",
            f"failed to load flannel 'subnet.env' file: {MISSING}. "
            "Check the flannel pod log for this node.",
        ),
    ],
)
def test_add_without_subnet_env_exact_error(
    lab: Lab, plugin: str, expected: str
) -> None:
    n1, _ = lab.nodes
    install_plugin(lab, plugin)
    pod = lab.add_netns("pod-a")
    proc = cni(lab, n1, "ADD", "c" * 64, pod)
    assert proc.rc == 1
    assert json.loads(proc.stdout)["msg"] == expected
    assert link(n1, "cni0") is None  # the bridge plugin was never reached
    assert not (n1.root / "var/lib/cni" / "flannel").exists()


def test_add_gives_pod_ip_on_cni0_and_scratch_file(lab: Lab) -> None:
    # fact: flannel-footprint.md §3.2, §3.3 (scratch 0600 in 0700), §4 (cni0 .1/24)
    n1, _ = lab.nodes
    n1.start_flanneld("v0.27.3", NETCONF)
    install_plugin(lab, "v1.7.1-flannel1")
    pod = lab.add_netns("pod-a")
    cid = "a" * 64
    proc = cni(lab, n1, "ADD", cid, pod)
    assert proc.rc == 0, proc.stdout + proc.stderr
    result = json.loads(proc.stdout)
    ip = result["ips"][0]["address"]
    assert ip.startswith("10.244.1.") and ip.endswith("/24")
    assert result["ips"][0]["gateway"] == "10.244.1.1"
    cni0 = ipj(n1, "addr", "show", "dev", "cni0")[0]
    assert cni0["mtu"] == 1450
    assert [
        (a["local"], a["prefixlen"]) for a in cni0["addr_info"] if a["family"] == "inet"
    ] == [("10.244.1.1", 24)]
    pod_addr = ipj_pod(lab, pod)
    assert ip.split("/")[0] in pod_addr
    scratch = n1.root / "var/lib/cni" / "flannel" / cid
    assert stat.S_IMODE(scratch.stat().st_mode) == 0o600
    assert stat.S_IMODE(scratch.parent.stat().st_mode) == 0o700
    assert json.loads(scratch.read_text())["ipam"]["ranges"] == [
        [{"subnet": "10.244.1.0/24"}]
    ]
    ipam_file = n1.root / "var/lib/cni" / "networks" / "cbr0" / ip.split("/")[0]
    assert ipam_file.exists()
    # DEL removes scratch + host-local file; bridge stays (§4)
    assert cni(lab, n1, "DEL", cid, pod).rc == 0
    assert not scratch.exists()
    assert not ipam_file.exists()
    assert link(n1, "cni0") is not None


def test_del_without_scratch_leaks_ipam(lab: Lab) -> None:
    # fact: flannel-footprint.md §3.3 (missing scratch: success, host-local leaks)
    n1, _ = lab.nodes
    n1.start_flanneld("v0.27.3", NETCONF)
    install_plugin(lab, "v1.7.1-flannel1")
    pod = lab.add_netns("pod-a")
    cid = "b" * 64
    ip = json.loads(cni(lab, n1, "ADD", cid, pod).stdout)["ips"][0]["address"]
    (n1.root / "var/lib/cni" / "flannel" / cid).unlink()
    assert cni(lab, n1, "DEL", cid, pod).rc == 0
    assert (n1.root / "var/lib/cni" / "networks" / "cbr0" / ip.split("/")[0]).exists()


def ipj_pod(lab: Lab, pod_ns: str) -> str:
    from flannel_lab import sh

    return sh(["ip", "-n", pod_ns, "-4", "addr", "show", "dev", "eth0"]).stdout


def test_cross_node_pod_ping_over_flannel_1(lab: Lab) -> None:
    # fact: flannel-footprint.md §2.3 (vxlan peers) + §3 + §4: real packets cross
    n1, n2 = lab.nodes
    for n in (n1, n2):
        n.start_flanneld("v0.27.3", NETCONF)
    n1.write_state([peer_of(n2)])
    n2.write_state([peer_of(n1)])
    install_plugin(lab, "v1.7.1-flannel1")
    pods = [lab.add_netns("pod-1"), lab.add_netns("pod-2")]
    ips = []
    for node, pod, cid in zip((n1, n2), pods, ("1" * 64, "2" * 64), strict=True):
        proc = cni(lab, node, "ADD", cid, pod)
        assert proc.rc == 0, proc.stdout + proc.stderr
        ips.append(json.loads(proc.stdout)["ips"][0]["address"].split("/")[0])
    assert ips[1].startswith("10.244.2.")
    wait_for(
        lambda: any(
            r["dst"] == "10.244.2.0/24"
            for r in ipj(n1, "route", "show", "dev", "flannel.1")
        ),
        10,
        "peer route",
    )
    from flannel_lab import sh

    def tx() -> int:
        stats = ipj(n1, "-s", "link", "show", "flannel.1")[0]["stats64"]
        return int(stats["tx"]["packets"])

    before = tx()
    ping = sh(
        ["ip", "netns", "exec", pods[0], "ping", "-c", "2", "-W", "2", ips[1]],
        check=False,
        timeout=20,
    )
    assert ping.returncode == 0, ping.stdout + ping.stderr
    assert tx() >= before + 2  # the packets went through flannel.1
