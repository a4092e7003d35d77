"""Read-only inventory of a node: one module per kind of state, each a pure ``parse``
(and, where the state is not read over netlink, a ``collect``).
:func:`collect_inventory` runs them all and returns an :class:`Inventory`.

What is read is CNI-neutral, narrowed or widened by a :class:`Scope` that a footprint
gives: the file places of that CNI and a cheap pre-filter of iptables rule lines.
The registry :data:`PARSERS` maps a kind name to its pure parser; golden tests under
``tests/fixtures/cniscrub/inventory/<kind>/`` exercise exactly these functions.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cniscrub.errors import InventoryError
from cniscrub.inventory import (
    addresses,
    files,
    ipsets,
    iptables,
    links,
    neighbours,
    netns,
    nftables,
    policy_rules,
    processes,
    routes,
)
from cniscrub.inventory.files import FilePlace
from cniscrub.inventory.iptables import RuleFilter
from cniscrub.inventory.model import Inventory, Resource
from cniscrub.node import netlink
from cniscrub.node.rootfs import RootFS
from cniscrub.node.runner import Runner

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
    "rules": policy_rules.parse,
    "ipsets": ipsets.parse,
}


@dataclass(frozen=True)
class Scope:
    """What one footprint adds to the CNI-neutral inventory: the file places it owns
    (read next to the shared CNI places), a pre-filter of iptables rule lines
    (see :func:`cniscrub.inventory.iptables.parse`; never decides ownership), and
    whether it needs the policy-routing rules and the ipsets read too."""

    file_places: tuple[FilePlace, ...] = ()
    rule_filter: RuleFilter | None = None
    ip_rules: bool = False
    ipsets: bool = False


@dataclass
class RawState:
    """What the collectors returned, before parsing: raw data per kind (the keys of
    :data:`PARSERS`) and notes about what could not be read."""

    raw: dict[str, Any]
    notes: list[str]


# Neighbours and FDB entries decide nothing about ownership: they only go away with
# their device, so `plan` does not read them (a vxlan device holds one of each per
# peer); `apply` reads those of the devices it deletes (cniscrub.apply.link_state).
NETLINK_KINDS = ("links", "addresses", "routes")


def _netlink_state(fs: RootFS, scope: Scope) -> dict[str, Any]:
    """The netlink dumps of :data:`NETLINK_KINDS` (plus the rules and the ipsets when
    ``scope`` asks for them) and the named netns with their ids."""
    kinds = NETLINK_KINDS + (("rules",) if scope.ip_rules else ())
    out: dict[str, Any] = dict(netlink.dump_many(kinds))
    out["netns"] = netns.collect(fs)
    if scope.ipsets:
        out["ipsets"], out["ipset_notes"] = ipsets.collect()
    return out


def _collect_rest(fs: RootFS, runner: Runner, scope: Scope) -> RawState:
    """Every kind but iptables. The netlink reads (pyroute2 import + decoding) run in
    a thread while files, nft and /proc are read here: the thread inherits this
    thread's network namespace."""
    box: dict[str, Any] = {}

    def work() -> None:
        try:
            box["ok"] = _netlink_state(fs, scope)
        except BaseException as exc:  # re-raised below
            box["exc"] = exc

    reader = threading.Thread(target=work, name="cniscrub-netlink", daemon=True)
    reader.start()
    state = RawState({}, [])
    try:
        state.raw["files"], file_notes = files.collect(fs, scope.file_places)
        state.raw["nftables"], nft_notes = nftables.collect(runner)
        state.raw["processes"] = processes.collect()
        state.notes += file_notes + nft_notes
    finally:
        reader.join()
    if "exc" in box:
        exc = box["exc"]
        if isinstance(exc, OSError):
            raise InventoryError(f"cannot read netlink state: {exc}") from exc
        raise exc
    state.notes += box["ok"].pop("ipset_notes", [])
    state.raw.update(box["ok"])
    return state


def collect_raw(
    fs: RootFS,
    runner: Runner,
    scope: Scope = Scope(),
    pending: iptables.Pending | None = None,
) -> RawState:
    """Everything the collectors return, before parsing. The ``*-save`` processes run
    in a thread (``pending``, or started here) while nft, files, netlink and /proc
    are read."""
    rules = pending or iptables.Pending(runner)
    try:
        state = _collect_rest(fs, runner, scope)
    finally:
        ipt, rule_notes = rules.result()
    state.raw["iptables"] = ipt
    state.notes += rule_notes
    return state


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
    scope: Scope = Scope(),
    pending: iptables.Pending | None = None,
) -> Inventory:
    """:func:`collect_raw` + :func:`parse_raw`, except that everything but the rules
    is parsed while the ``*-save`` processes are still running."""
    rules = pending or iptables.Pending(runner)
    try:
        state = _collect_rest(fs, runner, scope)
        inv = parse_raw(state.raw, [], scope.rule_filter)
    finally:
        ipt, rule_notes = rules.result()
    inv.notes = state.notes + rule_notes
    inv.add(iptables.parse_all(ipt, scope.rule_filter))
    log.debug("inventory: %s", {k: len(v) for k, v in inv.resources.items()})
    return inv
