"""Read-only inventory of a node: one module per kind of state, each ``collect`` + pure
``parse``. :func:`collect_inventory` runs them all and returns an :class:`Inventory`.

The registry :data:`PARSERS` maps a kind name to its pure parser; golden tests under
``tests/fixtures/cniscrub/inventory/<kind>/`` exercise exactly these functions.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from cniscrub.errors import InventoryError
from cniscrub.inventory import (
    addresses,
    files,
    iptables,
    links,
    neighbours,
    netns,
    nftables,
    processes,
    routes,
)
from cniscrub.inventory.iptables import Runner
from cniscrub.inventory.model import Inventory, Resource
from cniscrub.node.rootfs import RootFS

log = logging.getLogger(__name__)

PARSERS: dict[str, Callable[..., list[Resource]]] = {
    "files": files.parse,
    "links": links.parse,
    "addresses": addresses.parse,
    "routes": routes.parse,
    "neighbours": neighbours.parse,
    "fdb": neighbours.parse_fdb,
    "iptables": iptables.parse,
    "nftables": nftables.parse,
    "processes": processes.parse,
    "netns": netns.parse,
}


def collect_raw(fs: RootFS, runner: Runner) -> tuple[dict[str, Any], list[str]]:
    """Everything each module's ``collect`` returns, before parsing."""
    raw: dict[str, Any] = {}
    notes: list[str] = []
    raw["files"], n1 = files.collect(fs)
    raw["iptables"], n2 = iptables.collect(runner)
    raw["nftables"], n3 = nftables.collect(runner)
    notes += n1 + n2 + n3
    try:
        raw["links"] = links.collect()
        raw["addresses"] = addresses.collect()
        raw["routes"] = routes.collect()
        raw["neighbours"] = neighbours.collect()
        raw["fdb"] = neighbours.collect_fdb()
    except OSError as exc:
        raise InventoryError(f"cannot read netlink state: {exc}") from exc
    raw["processes"] = processes.collect()
    raw["netns"] = netns.collect(fs)
    return raw, notes


def parse_raw(raw: dict[str, Any], notes: list[str]) -> Inventory:
    """Pure: the output of :func:`collect_raw` -> :class:`Inventory`."""
    inv = Inventory(notes=list(notes))
    for kind, parser in PARSERS.items():
        if kind == "iptables":
            inv.add(iptables.parse_all(raw.get(kind, [])))
        elif kind in raw:
            inv.add(parser(raw[kind]))
    return inv


def collect_inventory(fs: RootFS, runner: Runner) -> Inventory:
    raw, notes = collect_raw(fs, runner)
    inv = parse_raw(raw, notes)
    log.debug("inventory: %s", {k: len(v) for k, v in inv.resources.items()})
    return inv
