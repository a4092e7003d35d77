"""Read-only inventory of a node: one module per kind of state, each ``collect`` + pure
``parse``. :func:`collect_inventory` runs them all and returns an :class:`Inventory`.

The registry :data:`PARSERS` maps a kind name to its pure parser; golden tests under
``tests/fixtures/cniscrub/inventory/<kind>/`` exercise exactly these functions.
"""

from __future__ import annotations

import logging
import threading
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
from cniscrub.node import netlink
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


# Neighbours and FDB entries decide nothing about ownership: they only go away with
# their device, so `plan` does not read them (a vxlan device holds one of each per
# peer); `apply` reads those of the devices it deletes (cniscrub.apply.link_state).
NETLINK_KINDS = ("links", "addresses", "routes")


def _netlink_state(fs: RootFS) -> dict[str, Any]:
    """The netlink dumps of :data:`NETLINK_KINDS` and the named netns with their
    ids."""
    out: dict[str, Any] = dict(netlink.dump_many(NETLINK_KINDS))
    out["netns"] = netns.collect(fs)
    return out


def _collect_rest(fs: RootFS, runner: Runner) -> tuple[dict[str, Any], list[str]]:
    """Every kind but iptables; notes as (files notes, nftables notes). The netlink
    reads (pyroute2 import + decoding) run in a thread while files, nft and /proc are
    read here: the thread inherits this thread's network namespace."""
    box: dict[str, Any] = {}

    def work() -> None:
        try:
            box["ok"] = _netlink_state(fs)
        except BaseException as exc:  # re-raised below
            box["exc"] = exc

    reader = threading.Thread(target=work, name="cniscrub-netlink", daemon=True)
    reader.start()
    raw: dict[str, Any] = {}
    try:
        raw["files"], n1 = files.collect(fs)
        raw["nftables"], n3 = nftables.collect(runner)
        raw["processes"] = processes.collect()
    finally:
        reader.join()
    if "exc" in box:
        exc = box["exc"]
        if isinstance(exc, OSError):
            raise InventoryError(f"cannot read netlink state: {exc}") from exc
        raise exc
    raw.update(box["ok"])
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
