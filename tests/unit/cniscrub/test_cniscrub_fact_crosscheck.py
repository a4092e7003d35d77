"""Network facts are cross-checked before they are used (issue 13, class 3): pure
variants of facts that lie, disagree or nest, and what is then claimed."""

from __future__ import annotations

import pytest

from cniscrub.footprints.flannel_crosscheck import corroborated, settle
from cniscrub.footprints.flannel_devices import doubts
from cniscrub.footprints.flannel_netfilter import foreign_networks
from cniscrub.footprints.flannel_routes import peer_doubts
from cniscrub.footprints.model import Footprint

Source = tuple[str, str, str]  # fact, value, kind


def _settled(*sources: Source) -> Footprint:
    fp = Footprint("flannel")
    for fact, value, kind in sources:
        fp.fact(fact).add(value, f"{kind} says", kind)
    settle(fp)
    return fp


ENV, RULES, NFT = "subnet.env", "iptables rules", "nft table"


@pytest.mark.parametrize(
    ("sources", "network", "unresolved"),
    [
        # issue 13: subnet.env claims everything; the rules say what it really is
        ([("network4", "0.0.0.0/0", ENV), ("network4", "10.244.0.0/16", RULES)],
         ["10.244.0.0/16"], False),
        # nested disagreement narrows to what every source agrees on
        ([("network4", "10.0.0.0/8", ENV), ("network4", "10.244.0.0/16", NFT)],
         ["10.244.0.0/16"], False),
        # disjoint sources: nothing is used, and the node is unresolved
        ([("network4", "10.99.0.0/16", ENV), ("network4", "10.244.0.0/16", RULES)],
         [], True),
        # a network that does not hold the node's own pod subnet
        ([("network4", "10.99.0.0/16", ENV), ("podcidr4", "10.244.1.0/24", ENV)],
         [], True),
        # alone and implausible: unknown, but nothing contradicted it
        ([("network4", "0.0.0.0/0", ENV)], [], False),
        ([("network6", "::/0", ENV), ("network6", "fd00:10:244::/56", RULES)], [], False),
    ],
)  # fmt: skip
def test_facts_that_disagree_narrow_never_widen(
    sources: list[Source], network: list[str], unresolved: bool
) -> None:
    fp = _settled(*sources)
    assert fp.fact("network4").values == network
    assert bool(fp.unresolved) == unresolved
    rejected = {s[1] for s in sources} - set(network) - {"10.244.1.0/24"}
    assert any(r in w for r in rejected for w in fp.warnings) or not rejected


def test_a_pod_subnet_must_hold_the_lease_and_match_the_bridge() -> None:
    fp = Footprint("flannel")
    fp.fact("podcidr4").add("10.244.5.0/24", "subnet.env", ENV)
    fp.fact("lease4").add("10.244.1.0", "address of flannel.1")
    settle(fp)
    assert fp.fact("podcidr4").values == [] and fp.fact("podcidr4").rejected


def test_one_kind_of_source_does_not_corroborate_a_network() -> None:
    alone = _settled(("network4", "10.244.0.0/16", ENV))
    assert not corroborated(alone, 4)
    both = _settled(
        ("network4", "10.244.0.0/16", ENV), ("network4", "10.244.0.0/16", RULES)
    )
    assert corroborated(both, 4)
    alone.fact("lease4").add("10.244.1.0", "address of flannel.1")
    assert corroborated(alone, 4)  # Flannel's own lease address lies in it


@pytest.mark.parametrize(
    ("route", "why"),
    [
        ({"table": 100}, "table 100"),
        ({"proto": 17}, "protocol 17"),
        ({"dst": "10.99.5.0/24"}, "in no cluster network"),
        ({"dst": "10.244.2.0/25"}, "/25 is not the size"),
        ({"dst": "10.244.1.0/24"}, "overlaps this node's own pod subnet"),
    ],
)
def test_a_peer_route_needs_evidence_tied_to_flannel(
    route: dict[str, object], why: str
) -> None:
    d = {
        "family": 4,
        "dst": "10.244.2.0/24",
        "gateway": "198.18.0.3",
        "table": 254,
        "proto": 3,
    }
    assert peer_doubts(d, ["10.244.0.0/16"], ["10.244.1.0/24"], True, True) == []
    d.update(route)
    found = peer_doubts(d, ["10.244.0.0/16"], ["10.244.1.0/24"], True, True)
    assert any(why in w for w in found), found
    assert peer_doubts({**d, **route}, ["10.244.0.0/16"], [], False, False)


@pytest.mark.parametrize(
    ("device", "addresses", "why"),
    [
        ({"local": "198.18.0.2", "port": 4789}, ["192.168.7.1/32"], "UDP port 4789"),
        ({"local": "203.0.113.9", "port": 8472}, [], "not one of this node's"),
        ({"port": 8472}, [], "no local address"),
        (
            {"local": "198.18.0.2", "port": 8472},
            ["192.168.7.1/32"],
            "outside the cluster",
        ),
    ],
)
def test_a_flannel_named_vxlan_needs_agreeing_attributes(
    device: dict[str, object], addresses: list[str], why: str
) -> None:
    good = {"kind": "vxlan", "vxlan": {"local": "198.18.0.2", "port": 8472}}
    assert doubts(good, ["10.244.1.0/32"], {"198.18.0.2"}, ["10.244.0.0/16"]) == []
    configured = {"kind": "vxlan", "vxlan": {"local": "198.18.0.2", "port": 4789}}
    assert (
        doubts(configured, ["10.244.1.0/32"], {"198.18.0.2"}, ["10.244.0.0/16"]) == []
    )
    found = doubts(
        {"kind": "vxlan", "vxlan": device}, addresses, {"198.18.0.2"}, ["10.244.0.0/16"]
    )
    assert any(why in w for w in found), found


def test_rule_addresses_must_be_the_cluster_network_the_pod_subnet_or_multicast() -> (
    None
):
    fp = _settled(
        ("network4", "10.244.0.0/16", ENV), ("podcidr4", "10.244.1.0/24", ENV)
    )
    assert (
        foreign_networks(fp, 4, ["10.244.1.0/24", "224.0.0.0/4", "10.244.0.0/16"]) == []
    )
    assert foreign_networks(fp, 4, ["10.0.0.0/8", "192.168.0.0/16"]) == [
        "10.0.0.0/8",
        "192.168.0.0/16",
    ]
    unknown = Footprint("flannel")
    assert foreign_networks(unknown, 4, ["10.244.0.0/16"]) == ["10.244.0.0/16"]
