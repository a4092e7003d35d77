"""Every node reaches every other node over the 198.18.0.0/15 underlay (issue #2)."""

from __future__ import annotations

import ipaddress
from typing import Any

import pytest

pytestmark = pytest.mark.sandbox


def test_addresses_are_in_the_benchmark_range(cluster: Any) -> None:
    underlay = ipaddress.ip_network("198.18.0.0/15")
    for node in cluster.nodes:
        assert ipaddress.ip_address(node.address) in underlay
        assert (
            f"{node.address}/15"
            in node.exec(["ip", "-br", "addr", "show", "eth0"]).stdout
        )


def test_every_node_reaches_every_other_node(cluster: Any) -> None:
    for src in cluster.nodes:
        for dst in cluster.nodes:
            if src is not dst:
                src.exec(["ping", "-c", "1", "-W", "2", dst.address], timeout=10)


def test_default_route_points_into_the_fabric_only(cluster: Any) -> None:
    route = cluster.nodes[1].exec(["ip", "route", "show", "default"]).stdout
    assert route.startswith("default via 198.18.0.1 dev eth0")
