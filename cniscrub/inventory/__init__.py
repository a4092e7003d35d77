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
from cniscrub.inventory.iptables import RuleFilter, Runner
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
    """Everything each module's ``collect`` returns, before parsing. The rule and nft
    collectors (subprocesses) run in a thread while netlink, files and /proc are read."""
    import threading

    raw: dict[str, Any] = {}
    notes: list[str] = []
    side: dict[str, Any] = {}

    def netfilter() -> None:
        try:
            side["iptables"] = iptables.collect(runner)
            side["nftables"] = nftables.collect(runner)
        except BaseException as exc:  # re-raised in the caller's thread
            side["error"] = exc

    thread = threading.Thread(target=netfilter)
    thread.start()
    try:
        raw["files"], n1 = files.collect(fs)
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
    finally:
        thread.join()
    if "error" in side:
        raise side["error"]
    raw["iptables"], n2 = side["iptables"]
    raw["nftables"], n3 = side["nftables"]
    notes += n1 + n2 + n3
    return raw, notes


def parse_raw(
    raw: dict[str, Any], notes: list[str], rule_filter: RuleFilter | None = None
) -> Inventory:
    """Pure: the output of :func:`collect_raw` -> :class:`Inventory` (``rule_filter``:
    see :func:`cniscrub.inventory.iptables.parse`)."""
    inv = Inventory(notes=list(notes))
    for kind, parser in PARSERS.items():
        if kind == "iptables":
            inv.add(iptables.parse_all(raw.get(kind, []), rule_filter))
        elif kind in raw:
            inv.add(parser(raw[kind]))
    return inv


def collect_inventory(
    fs: RootFS, runner: Runner, rule_filter: RuleFilter | None = None
) -> Inventory:
    raw, notes = collect_raw(fs, runner)
    inv = parse_raw(raw, notes, rule_filter)
    log.debug("inventory: %s", {k: len(v) for k, v in inv.resources.items()})
    return inv
