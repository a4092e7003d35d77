"""Golden parser tests: tests/fixtures/cniscrub/inventory/<kind>/<case>.json holds
{argv, stdout, expected}; stdout was captured from real tools in a sandbox netns by
tests/sandbox/cniscrub/capture_fixtures.py. Each parser must reproduce ``expected``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from cniscrub.inventory import PARSERS
from cniscrub.inventory import iptables as ipt

FIXTURES = Path(__file__).parents[2] / "fixtures/cniscrub/inventory"
CASES = sorted(FIXTURES.glob("*/*.json"))


def _load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())  # type: ignore[no-any-return]


def _parse(kind: str, doc: dict[str, Any]) -> list[dict[str, Any]]:
    if kind == "iptables":
        backend, family = doc["params"]
        return [r.to_json() for r in ipt.parse(doc["stdout"], backend, family)]
    raw = doc["stdout"] if kind == "nftables" else json.loads(doc["stdout"])
    return [r.to_json() for r in PARSERS[kind](raw)]


@pytest.mark.parametrize("path", CASES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_parser_reproduces_golden(path: Path) -> None:
    doc = _load(path)
    assert _parse(path.parent.name, doc) == doc["expected"]


def test_there_are_goldens_for_every_kind() -> None:
    kinds = {p.parent.name for p in CASES}
    assert kinds >= {
        "iptables",
        "nftables",
        "links",
        "addresses",
        "routes",
        "neighbours",
        "fdb",
        "files",
        "processes",
        "netns",
    }


def _by_key(kind: str, case: str) -> dict[str, dict[str, Any]]:
    doc = _load(FIXTURES / kind / f"{case}.json")
    return {r["key"]: r["data"] for r in _parse(kind, doc)}


def test_flannel_postrtg_rules_parsed_exactly() -> None:
    # fact: flannel-footprint.md §2.4 (nat FLANNEL-POSTRTG: 6 rules + POSTROUTING jump)
    res = _by_key("iptables", "v0.27-nft-foreign-nft4")
    chain = res["nft:4:nat:FLANNEL-POSTRTG"]
    assert len(chain["rules"]) == 6 and not chain["builtin"]
    jump = [d for k, d in res.items() if d.get("jump") == "FLANNEL-POSTRTG"]
    assert jump and jump[0]["comment"] == "flanneld masq"
    masq = [
        d
        for d in res.values()
        if d.get("chain") == "FLANNEL-POSTRTG"
        and d.get("jump") == "MASQUERADE"
        and d.get("not_dest")
    ]
    assert masq[0]["source"] == "10.244.0.0/16" and masq[0]["dest"] == "224.0.0.0/4"


def test_v026_leaves_empty_chains() -> None:
    # fact: flannel-footprint.md §2.6 (v0.25-v0.26: empty chains after graceful stop)
    res = _by_key("iptables", "v0.26-legacy-empty-chains-legacy4")
    assert res["legacy:4:nat:FLANNEL-POSTRTG"]["rules"] == []
    assert res["legacy:4:filter:FLANNEL-FWD"]["rules"] == []


def test_nft_mode_tables() -> None:
    # fact: flannel-footprint.md §2.5 (tables ip flannel-ipv4 / ip6 flannel-ipv6)
    res = _by_key("nftables", "nft-mode-dualstack")
    assert res["ip flannel-ipv4"]["chains"] == ["postrtg", "forward"]
    assert len(res["ip flannel-ipv4"]["rules"]) == 8  # 6 postrtg + 2 forward
    fwd = [r for r in res["ip6 flannel-ipv6"]["rules"] if r["chain"] == "forward"]
    assert len(fwd) == 2 and "fd00:10:244::" in fwd[0]["expr"]


def test_vxlan_link_attributes() -> None:
    # fact: flannel-footprint.md §2.3 (flannel.1: VNI 1, local = external IP, 8472)
    links = _by_key("links", "v0.24-legacy-dualstack")
    vx = links["flannel.1"]
    assert vx["kind"] == "vxlan" and vx["vxlan"]["id"] == 1
    assert vx["vxlan"]["local"] == "198.18.0.2" and vx["vxlan"]["port"] == 8472
    assert links["flannel-v6.1"]["vxlan"]["local"] == "fd00:198:18::2"
    veths = [d for d in links.values() if d["master_name"] == "cni0"]
    assert veths and all(
        d["kind"] == "veth" and d["peer_netnsid"] is not None for d in veths
    )


def test_routes_fdb_neighbours_of_peers() -> None:
    # fact: flannel-footprint.md §2.3 (per peer: route via .0 onlink, ARP, FDB)
    routes = _by_key("routes", "v0.27-nft-foreign").values()
    peer = [r for r in routes if r["dst"] == "10.244.2.0/24"]
    assert peer and peer[0]["onlink"] and peer[0]["gateway"] == "10.244.2.0"
    assert any(r["type"] == "blackhole" and r["dst"] == "10.244.1.0/24" for r in routes)
    fdb = [d for d in _by_key("fdb", "v0.27-nft-foreign").values() if d["dst"]]
    assert {d["dst"] for d in fdb} >= {"198.18.1.2", "198.18.1.3", "198.18.1.4"}
    neigh = [
        d
        for d in _by_key("neighbours", "v0.27-nft-foreign").values()
        if d["permanent"] and d["dst"] == "10.244.2.0"
    ]
    assert neigh and neigh[0]["lladdr"].startswith("aa:bb:cc")


def test_host_gw_routes() -> None:
    # fact: flannel-footprint.md §2.3 host-gw (<peer podCIDR> via <peer IP> dev eth0)
    routes = _by_key("routes", "host-gw-legacy").values()
    assert {
        r["gateway"]
        for r in routes
        if str(r["dst"]).startswith("10.244.") and r["gateway"]
    } == {"198.18.0.10", "198.18.0.11", "198.18.0.12"}


def test_files_decode_conf_and_env() -> None:
    # fact: flannel-footprint.md §1.2 (cni-conf.json name cbr0) and §2.2 (subnet.env)
    files = _by_key("files", "v0.27-nft-foreign")
    conf = files["/etc/cni/net.d/10-flannel.conflist"]["conf"]
    assert conf["name"] == "cbr0" and conf["plugins"][0]["type"] == "flannel"
    env = files["/run/flannel/subnet.env"]["env"]
    assert env["FLANNEL_NETWORK"] == "10.244.0.0/16"
    assert files["/var/lib/cni/flannel"]["mode"] == 0o700


def test_bad_input_is_flagged_not_raised() -> None:
    files = _by_key("files", "bad-input")
    assert "parse_error" in files["/etc/cni/net.d/10-flannel.conflist"]
    assert files["/run/flannel/subnet.env"]["error"].startswith("binary")
