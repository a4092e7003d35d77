"""Real-kernel checks of cniscrub's fast paths: the pod-side backup read from a thread
inside the pod netns, the selective netlink inventory dumps, and the targeted verify
inside ``apply`` catching an acted-on object that is still there.
"""

from __future__ import annotations

import json
from pathlib import Path

import csb_residue as residue
import pytest
from csb_nodebuilder import Node, run
from csb_state import flannel_leftovers

from cniscrub.apply.backup import _pod_side

pytestmark = [pytest.mark.sandbox, pytest.mark.timeout(120)]


def test_pod_side_read_inside_the_pod_netns(node: Node) -> None:
    node.ip("link", "add", "cni0", "type", "bridge")
    node.add_pod(0, dual=True)
    pod = node.pods[0]
    pip = ["ip", "-n", pod]
    run([*pip, "-6", "route", "add", "fd01::/64", "via", "fd00:10:244:1::1"])
    run([*pip, "route", "add", "10.9.0.0/16", "via", "10.244.1.1", "table", "100"])
    run([*pip, "link", "set", "eth0", "mtu", "1450"])
    netns = f"/run/netns/{pod}"
    index = int(run([*pip, "-o", "link", "show", "eth0"]).split(":")[0])
    fast = _pod_side(netns, index)
    assert fast["ifname"] == "eth0" and fast["up"] is True
    shown = json.loads(run([*pip, "-j", "link", "show", "eth0"]))[0]
    assert fast["mac"] == shown["address"]
    assert {"family": 4, "dst": "10.9.0.0/16", "gateway": "10.244.1.1"} in fast[
        "routes"
    ]
    assert fast["mtu"] == 1450 and "10.244.1.2/24" in fast["addresses"]
    assert {"family": 6, "dst": "fd01::/64", "gateway": "fd00:10:244:1::1"} in fast[
        "routes"
    ]
    assert _pod_side(netns, index + 100)["error"].startswith("no link")


def test_targeted_verify_catches_rules_a_lying_restore_left(
    node: Node, tmp_path: Path
) -> None:
    """iptables-nft-restore exits 0 but deletes nothing: every action reads "applied",
    yet the acted-on rules are still there -> apply must say so and exit 3."""
    residue.foreign(node)
    residue.flannel(node, backend="nft")
    bindir = tmp_path / "bin"
    bindir.mkdir()
    liar = bindir / "iptables-nft-restore"
    liar.write_text("#!/bin/sh\ncat >/dev/null\nexit 0\n")
    liar.chmod(0o755)
    env = {"PATH": f"{bindir}:/usr/sbin:/usr/bin:/sbin:/bin"}
    argv = ["apply", "--cni", "flannel", "--root", str(node.root), "--yes"]
    argv += ["--lock-file", str(tmp_path / "lock")]
    argv += ["--journal-dir", str(tmp_path / "j"), "--json"]
    out = node.cli(*argv, env=env)
    assert out.returncode == 3, out.stderr
    doc = json.loads(out.stdout)
    assert {r["status"] for r in doc["results"]} == {"applied"}
    verify = doc["verify"]
    assert verify["clean"] is False and verify["scope"] == "acted-on"
    assert verify["remaining"] == len(verify["left"]) > 0
    assert all("nft backend, IPv4" in t for t in verify["left"])
    left = flannel_leftovers(node)
    assert left and all(x.startswith("nft4") for x in left)
    again = node.cli(*argv)  # the real iptables-nft-restore: converges
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["verify"]["clean"] is True
    assert flannel_leftovers(node) == []


def test_selective_netlink_inventory(node: Node) -> None:
    """Links of every kind the footprint reads (vxlan v4/v6 with attributes, tun,
    ipip, bridge + veths into pod netns), addresses, routes (blackhole, onlink,
    multipath, other tables), neighbours and FDB: the selective dumps give the
    attributes the parsers read, and the link tables a child reads for apply are
    exactly the permanent neighbours and the FDB entries with a dst."""
    from cniscrub.inventory import PARSERS, netns
    from cniscrub.inventory.nftables import table_names
    from cniscrub.node import netlink
    from cniscrub.node.netns_enter import entered
    from cniscrub.node.rootfs import RootFS
    from cniscrub.node.runner import LocalRunner

    residue.foreign(node, backends=("nft",))
    residue.flannel(node, dual=True, peers=3, pods=2, blackhole=True)
    residue.udp(node)
    node.ip("link", "add", "vxg", "type", "vxlan", "id", "7", "dstport", "4789", "gbp")
    node.ip("link", "add", "v6x", "type", "vxlan", "id", "8", "local", "fd00::1")
    ipip = ["link", "add", "flannel.ipip", "type", "ipip", "local", "198.18.0.2"]
    run(["ip", "-n", node.name, *ipip], check=False)  # needs the ipip module
    node.ip(
        "route", "add", "203.0.113.0/24", "table", "77",
        "nexthop", "via", "198.18.0.1", "nexthop", "via", "198.18.0.3",
    )  # fmt: skip
    node.ip("neigh", "add", "198.18.0.9", "lladdr", "02:00:00:00:00:09", "dev", "eth0")
    from cniscrub.apply.link_state import LinkState
    from cniscrub.node.netlink_child import DumpChild

    kinds = ("links", "addresses", "routes", "neighbours", "fdb")
    with entered(f"/run/netns/{node.name}"):
        fast = netlink.dump_many(kinds)
        slow = {k: netlink.dump(k) for k in kinds}
        child = DumpChild(("routes", "link-tables"))  # forked here: the node's netns
        routes = child.take("routes")
        tables = LinkState(child)
        by_index = {i: tables.covers(i) for i in {m["index"] for m in fast["links"]}}
        child.close()
        names = table_names(LocalRunner())
        nsids = netns.collect(RootFS("/"))
        from pyroute2.nftables.main import NFTables

        with NFTables(nfgen_family=0) as nft:
            ref_names = {t.get_attr("NFTA_TABLE_NAME") for t in nft.get_tables()}
    for kind in kinds:
        parser = PARSERS[kind]
        key = "neighbours" if kind == "neighbours" else kind
        got = sorted(str(r.to_json()) for r in parser(fast[key]))
        want = sorted(str(r.to_json()) for r in parser(slow[key]))
        if kind == "neighbours":  # non-permanent entries may age between dumps
            got = [g for g in got if "'permanent': True" in g]
            want = [w for w in want if "'permanent': True" in w]
        assert got == want, kind
    want = [
        *(r.to_json() for r in PARSERS["neighbours"](slow["neighbours"])),
        *(r.to_json() for r in PARSERS["fdb"](slow["fdb"])),
    ]
    want = [
        c
        for c in want
        if c["data"].get("permanent" if c["kind"] == "neighbour" else "dst")
    ]
    assert routes is not None
    got_routes = sorted(str(r.to_json()) for r in PARSERS["routes"](routes))
    assert got_routes == sorted(
        str(r.to_json()) for r in PARSERS["routes"](slow["routes"])
    )
    got = [c for covers in by_index.values() for c in covers]
    assert sorted(map(json.dumps, got)) == sorted(map(json.dumps, want))
    assert {c["kind"] for c in got} == {"neighbour", "fdb"}
    links = {r.key: r.data for r in PARSERS["links"](fast["links"])}
    assert (
        links["vxg"]["vxlan"]["gbp"] is True and links["vxg"]["vxlan"]["port"] == 4789
    )
    assert links["v6x"]["vxlan"]["local"] == "fd00::1"
    assert links["flannel0"]["kind"] == "tun"
    assert names is not None and {n for _, n in names} == ref_names
    mine = [n for n in nsids if n["path"].endswith(node.pods[0])]
    assert mine and mine[0]["nsid"] is not None


def test_overlapped_inventory_equals_collect_then_parse(node: Node) -> None:
    """collect_inventory parses while the *-save processes run and pre-filters rules:
    it must give the same plan as collecting everything, then parsing everything."""
    from cniscrub import footprints
    from cniscrub.inventory import collect_inventory, collect_raw, parse_raw
    from cniscrub.node.netns_enter import entered
    from cniscrub.node.rootfs import RootFS
    from cniscrub.node.runner import LocalRunner
    from cniscrub.plan.planner import Policy, build_plan

    residue.foreign(node)
    residue.flannel(node, dual=True, backend="legacy")
    residue.bridge_masq(node, "nft", 1, network="podman")
    fs, runner = RootFS(str(node.root)), LocalRunner()
    with entered(f"/run/netns/{node.name}"):
        scope = footprints.get("flannel").scope
        fast = collect_inventory(fs, runner, scope)
        state = collect_raw(fs, runner, scope)
    slow = parse_raw(state.raw, state.notes)
    assert fast.notes == slow.notes
    for kind in ("file", "link", "route", "ipt_chain", "nft_table", "netns"):
        assert [r.key for r in fast.of(kind)] == [r.key for r in slow.of(kind)], kind
    a, b = build_plan(fast, Policy("flannel")), build_plan(slow, Policy("flannel"))
    assert a.to_json() == b.to_json() and a.actions
