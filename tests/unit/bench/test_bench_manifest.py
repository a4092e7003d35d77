"""The generated node plan: deterministic, exact sizes, exact Flannel rules."""

from __future__ import annotations

import hashlib
import ipaddress
import pickle
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

from bench.cleaners import rules
from bench.cleaners.spec import KINDS, SIZES, peer, plan_node


def fingerprint(name: str) -> str:
    spec = plan_node(SIZES[name])
    parts = [
        spec.ip_batch,
        spec.fdb_batch,
        spec.pods,
        spec.restore_text,
        sorted(spec.files.items()),
        {k: sorted(v) for k, v in spec.flannel.items()},
        {k: sorted(v) for k, v in spec.foreign.items()},
    ]
    return hashlib.sha256(pickle.dumps(parts)).hexdigest()


@pytest.mark.parametrize("name", sorted(SIZES))
def test_plan_is_deterministic(name: str) -> None:
    assert fingerprint(name) == fingerprint(name)


@pytest.mark.parametrize("name", sorted(SIZES))
def test_sizes_are_exact(name: str) -> None:
    size = SIZES[name]
    spec = plan_node(size)
    assert len(spec.foreign["rule"]) == size.foreign_rules
    assert len(spec.flannel["neighbour"]) == size.peers
    assert len(spec.flannel["fdb"]) == size.peers
    assert len(spec.flannel["route"]) == size.peers + 1  # + cni0's connected route
    assert len(spec.pods) == size.pods
    assert len({p.veth for p in spec.pods}) == size.pods
    assert len(spec.flannel["link"]) == size.pods + 2
    for kind in KINDS:
        assert not spec.flannel[kind] & spec.foreign[kind], kind


def test_flannel_rules_are_the_documented_ones() -> None:
    spec = plan_node(SIZES["small"])
    assert spec.flannel["rule"] == set(rules.FLANNEL_RULES)
    lines = {line for _t, line in rules.FLANNEL_RULES}
    assert (
        "-A FLANNEL-POSTRTG -s 10.244.0.0/16 ! -d 224.0.0.0/4 -m comment --comment"
        ' "flanneld masq" -j MASQUERADE --random-fully'
    ) in lines
    assert (
        '-A FLANNEL-FWD -d 10.244.0.0/16 -m comment --comment "flanneld forward"'
        " -j ACCEPT" in lines
    )
    assert len(lines) == 10


@pytest.mark.parametrize("name", sorted(SIZES))
def test_peers_fit_the_network_and_underlay(name: str) -> None:
    n = SIZES[name].peers
    network = ipaddress.ip_network("10.244.0.0/16")
    underlay = ipaddress.ip_network("198.18.0.0/15")
    nets = set()
    for k in range(n):
        addr, plen, ip, mac = peer(k, n)
        net = ipaddress.ip_network(f"{addr}/{plen}")
        assert net.subnet_of(network)  # type: ignore[arg-type]
        assert not net.overlaps(ipaddress.ip_network("10.244.0.0/24"))
        assert ipaddress.ip_address(ip) in underlay
        assert int(mac.split(":")[0], 16) & 0b11 == 0b10  # local, unicast
        nets.add(net)
    assert len(nets) == n
    assert all(net.prefixlen == (24 if n <= 255 else 26) for net in nets)


def test_too_few_foreign_rules_is_refused() -> None:
    with pytest.raises(ValueError):
        rules.generate(len(rules.FIXED_FOREIGN) - 1)


def test_oracle_deletes_exactly_flannel_rules_and_chains() -> None:
    from bench.cleaners.oracle import restore_text

    lines = restore_text().splitlines()
    deletes = {line for line in lines if line.startswith("-D ")}
    assert deletes == {"-D" + line[2:] for _t, line in rules.FLANNEL_RULES}
    assert {line for line in lines if line[:3] in ("-F ", "-X ")} == {
        f"{op} {chain}" for _t, chain in rules.FLANNEL_CHAINS for op in ("-F", "-X")
    }
    assert all("KUBE" not in line and "DOCKER" not in line for line in lines)
