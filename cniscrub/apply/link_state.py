"""What goes away with a deleted link besides what the plan lists, read at apply time.

The plan claims devices by their own attributes and lists their addresses and routes.
The per-peer tables under a device -- permanent neighbours and, on a vxlan device, FDB
entries with a remote ``dst`` (one of each per peer: thousands on a big cluster) --
decide nothing about ownership, so ``plan`` does not read them. ``apply`` reads them
here, for exactly the links it is about to delete, and backs them up with their device
so ``restore`` puts them back. :class:`LinkState` starts the read in a thread when the
executor starts (it overlaps the netfilter phase, which mostly waits on
``iptables-restore``) and hands out the result when the links' backups are made.

Reads, all through pyroute2: one link dump (the MACs of a bridge's ports: a bridge
whose MAC came from a port gets it derived again on restore), one neighbour dump per
family, and one kernel-filtered FDB dump per vxlan device (only vxlan FDB entries carry
a ``dst``).

>>> goes_with_link({"kind": "neighbour", "data": {"permanent": True}})
True
>>> goes_with_link({"kind": "fdb", "data": {"dst": None}})
False
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

from cniscrub.inventory import neighbours
from cniscrub.node import netlink
from cniscrub.plan.model import Action

READ_TIMEOUT = 120.0  # seconds; a netlink dump of a node never takes this long


def goes_with_link(cover: dict[str, Any]) -> bool:
    """Backed up with its device: a permanent neighbour (learned ones are the kernel's
    cache) or an FDB entry with a remote dst (Flannel's per-peer vxlan entries)."""
    d = cover["data"]
    if cover["kind"] == "neighbour":
        return bool(d.get("permanent"))
    return cover["kind"] == "fdb" and bool(d.get("dst"))


def read(links: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """``{"covers": {ifindex: [resource JSON]}, "port_macs": {ifindex: [mac]}}`` for
    the link resources ``links`` (their ``data`` dicts), read now."""
    from pyroute2 import IPRoute

    indexes = {d["index"] for d in links}
    bridges = {d["index"] for d in links if d.get("kind") == "bridge"}
    vxlans = [d["index"] for d in links if d.get("kind") == "vxlan"]
    with IPRoute() as ipr:
        raw_links = netlink.dump_with(ipr, "links") if bridges else []
        raw_neigh = netlink.dump_with(ipr, "neighbours")
    raw_fdb: list[dict[str, Any]] = []
    if vxlans:
        with IPRoute(strict_check=True) as strict:
            for index in vxlans:
                raw_fdb += netlink.dump_with(strict, "fdb", index=index)
    covers: dict[int, list[dict[str, Any]]] = {}
    found = [*neighbours.parse(raw_neigh), *neighbours.parse_fdb(raw_fdb)]
    for res in found:
        cover = res.to_json()
        if res.data["index"] in indexes and goes_with_link(cover):
            covers.setdefault(res.data["index"], []).append(cover)
    port_macs: dict[int, list[str]] = {}
    for m in raw_links:
        master = m["attrs"].get("IFLA_MASTER")
        if master in bridges:
            port_macs.setdefault(master, []).append(str(m["attrs"].get("IFLA_ADDRESS")))
    return {"covers": covers, "port_macs": port_macs}


class LinkState:
    """:func:`read` for the link actions of a plan, started in a background thread
    (it inherits the caller's network namespace) and awaited on first use."""

    def __init__(self, actions: Sequence[Action]) -> None:
        self._links = [
            a.data["resource"]["data"] for a in actions if a.kind == "link"
        ]
        self._box: dict[str, Any] = {}
        self._thread: threading.Thread | None = None

    def start(self) -> LinkState:
        if self._links and self._thread is None:
            self._thread = threading.Thread(
                target=self._work, name="cniscrub-link-state", daemon=True
            )
            self._thread.start()
        return self

    def _work(self) -> None:
        try:
            self._box["ok"] = read(self._links)
        except BaseException as exc:  # handed to the caller by result()
            self._box["exc"] = exc

    def result(self) -> dict[str, Any]:
        """The read's result; raises OSError if it failed or did not finish."""
        self.start()
        if self._thread is not None:
            self._thread.join(READ_TIMEOUT)
        if "exc" in self._box:
            exc = self._box["exc"]
            raise OSError(f"cannot read neighbours/FDB of the links: {exc}") from exc
        if "ok" not in self._box:
            if not self._links:
                return {"covers": {}, "port_macs": {}}
            raise OSError("reading neighbours/FDB of the links did not finish")
        return dict(self._box["ok"])

    def covers(self, index: int) -> list[dict[str, Any]]:
        return list(self.result()["covers"].get(index, []))

    def port_macs(self, index: int) -> list[str]:
        return list(self.result()["port_macs"].get(index, []))
