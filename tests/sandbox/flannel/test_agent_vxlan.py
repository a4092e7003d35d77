"""flanneld emulation, vxlan backend, on two real-kernel "nodes".

Facts: flannel-footprint.md §2.2 (subnet.env), §2.3 (device, per-peer entries),
§2.7 (annotations, condition).
"""

from __future__ import annotations

import json

import pytest
from flannel_lab import ANN, NETCONF, Lab, ipj, link, peer_of, wait_for

pytestmark = pytest.mark.sandbox


def start_pair(lab: Lab, version: str = "v0.27.3") -> None:
    n1, n2 = lab.nodes
    for n in (n1, n2):
        n.start_flanneld(version, NETCONF)
    n1.write_state([peer_of(n2)])
    n2.write_state([peer_of(n1)])


def test_vxlan_device_attributes(lab: Lab) -> None:
    # fact: flannel-footprint.md §2.3 (flannel.1, 8472, learning off, MTU, .0/32)
    n1, _ = lab.nodes
    n1.start_flanneld("v0.27.3", NETCONF)
    dev = link(n1, "flannel.1")
    assert dev is not None
    data = dev["linkinfo"]["info_data"]
    assert dev["linkinfo"]["info_kind"] == "vxlan"
    assert data["id"] == 1
    assert data["port"] == 8472
    assert data["learning"] is False
    assert data["local"] == "198.18.0.1"
    assert data["link"] == "eth0"
    assert dev["mtu"] == 1500 - 50
    addrs = [
        (a["local"], a["prefixlen"])
        for a in ipj(n1, "addr", "show", "dev", "flannel.1")[0]["addr_info"]
        if a["family"] == "inet"
    ]
    assert addrs == [("10.244.1.0", 32)]
    assert (
        n1.net_exec(
            ["cat", "/proc/sys/net/ipv6/conf/flannel.1/accept_ra"]
        ).stdout.strip()
        == "0"
    )


def test_subnet_env_annotations_condition(lab: Lab) -> None:
    # fact: flannel-footprint.md §2.2 (subnet.env), §2.7 (annotations, condition)
    n1, _ = lab.nodes
    n1.start_flanneld("v0.27.3", NETCONF)
    assert n1.subnet_env.read_text() == (
        "FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET=10.244.1.1/24\n"
        "FLANNEL_MTU=1450\nFLANNEL_IPMASQ=true\n"
    )
    assert oct(n1.subnet_env.stat().st_mode & 0o777) == "0o644"
    ann = n1.annotations()
    mac = link(n1, "flannel.1")["address"]  # type: ignore[index]
    assert ann == {
        ANN + "backend-type": "vxlan",
        ANN + "backend-data": json.dumps(
            {"VNI": 1, "VtepMAC": mac}, separators=(",", ":")
        ),
        ANN + "public-ip": "198.18.0.1",
        ANN + "kube-subnet-manager": "true",
    }
    cond = json.loads(n1.state.with_name("state.json.condition.json").read_text())
    assert cond == {
        "type": "NetworkUnavailable",
        "status": "False",
        "reason": "FlannelIsUp",
        "message": "Flannel is running on this node",
    }


def test_peer_neighbour_fdb_route_added_and_removed(lab: Lab) -> None:
    # fact: flannel-footprint.md §2.3 (EventAdded / EventRemoved entries per peer)
    start_pair(lab)
    n1, n2 = lab.nodes
    mac2 = peer_of(n2)["vtep_mac"]

    def routes() -> list[dict[str, object]]:
        return ipj(n1, "route", "show", "dev", "flannel.1")

    wait_for(
        lambda: any(r["dst"] == "10.244.2.0/24" for r in routes()), 10, "peer route"
    )
    neigh = ipj(n1, "neigh", "show", "dev", "flannel.1")
    assert [(x["dst"], x["lladdr"], x["state"]) for x in neigh] == [
        ("10.244.2.0", mac2, ["PERMANENT"])
    ]
    fdb = json.loads(
        n1.net_exec(["bridge", "-j", "fdb", "show", "dev", "flannel.1"]).stdout
    )
    assert [
        (f["mac"], f.get("dst"), f["flags"], f["state"]) for f in fdb if f.get("dst")
    ] == [(mac2, "198.18.0.2", ["self"], "permanent")]
    route = next(r for r in routes() if r["dst"] == "10.244.2.0/24")
    assert route["gateway"] == "10.244.2.0"
    assert route["flags"] == ["onlink"]
    n1.write_state([])  # node2 deleted
    wait_for(
        lambda: not any(r["dst"] == "10.244.2.0/24" for r in routes()), 10, "removal"
    )
    assert ipj(n1, "neigh", "show", "dev", "flannel.1") == []
    fdb = json.loads(
        n1.net_exec(["bridge", "-j", "fdb", "show", "dev", "flannel.1"]).stdout
    )
    assert [f for f in fdb if f.get("dst")] == []


def test_restart_reuses_mac_from_annotation(lab: Lab) -> None:
    # fact: flannel-footprint.md §2.3 (MAC re-read from backend-data on restart)
    n1, _ = lab.nodes
    proc = n1.start_flanneld("v0.27.3", NETCONF)
    ann = n1.annotations()
    assert n1.stop(proc) == 0
    n1.net_exec(["ip", "link", "del", "flannel.1"])
    n1.start_flanneld("v0.27.3", NETCONF, annotations=ann)
    mac = json.loads(ann[ANN + "backend-data"])["VtepMAC"]
    assert link(n1, "flannel.1")["address"] == mac  # type: ignore[index]


def test_pod_cidr_missing_exits_with_error(lab: Lab) -> None:
    # fact: flannel-footprint.md §2.1 (node "<name>" pod cidr not assigned)
    import subprocess
    import sys

    n1, _ = lab.nodes
    (n1.root / "net-conf.json").write_text(json.dumps(NETCONF))
    n1.state.write_text(
        json.dumps({"node": {"metadata": {"name": "node1"}, "spec": {}}, "peers": []})
    )
    proc = subprocess.run(
        n1.wrap(
            [
                sys.executable,
                "-m",
                "harness.emulation.flannel.standalone",
                str(n1.state),
                "v0.27.3",
                "--ip-masq",
                "--kube-subnet-mgr",
                f"--net-config-path={n1.root / 'net-conf.json'}",
            ]
        ),
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert proc.returncode == 1
    assert 'node "node1" pod cidr not assigned' in proc.stderr
