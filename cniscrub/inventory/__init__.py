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


def _collect_rest(fs: RootFS, runner: Runner) -> tuple[dict[str, Any], list[str]]:
    """Every kind but iptables; notes as (files notes, nftables notes)."""
    raw: dict[str, Any] = {}
    raw["files"], n1 = files.collect(fs)
    raw["nftables"], n3 = nftables.collect(runner)
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
    raw["_notes"] = (n1, n3)
    return raw, n1 + n3


def collect_raw(
    fs: RootFS, runner: Runner, pending: iptables.Pending | None = None
) -> tuple[dict[str, Any], list[str]]:
    """Everything each module's ``collect`` returns, before parsing. The ``*-save``
    processes run in a thread (``pending``, or started here) while nft, files,
    netlink and /proc are read."""
    rules = pending or iptables.Pending(runner)
    try:
        raw, _ = _collect_rest(fs, runner)
    finally:
        ipt, n2 = rules.result()
    n1, n3 = raw.pop("_notes")
    raw["iptables"] = ipt
    return raw, n1 + n2 + n3


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
    fs: RootFS,
    runner: Runner,
    rule_filter: RuleFilter | None = None,
    pending: iptables.Pending | None = None,
) -> Inventory:
    """:func:`collect_raw` + :func:`parse_raw`, except that everything but the rules
    is parsed while the ``*-save`` processes are still running."""
    rules = pending or iptables.Pending(runner)
    try:
        raw, _ = _collect_rest(fs, runner)
        n1, n3 = raw.pop("_notes")
        inv = parse_raw(raw, [], rule_filter)
    finally:
        ipt, n2 = rules.result()
    inv.notes = n1 + n2 + n3
    inv.add(iptables.parse_all(ipt, rule_filter))
    log.debug("inventory: %s", {k: len(v) for k, v in inv.resources.items()})
    return inv
