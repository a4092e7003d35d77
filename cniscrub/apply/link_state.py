"""What goes away with a deleted link besides what the plan lists, read at apply time.

The plan claims devices by their own attributes and lists their addresses and routes.
The per-peer tables under a device -- permanent neighbours and, on a vxlan device, FDB
entries with a remote ``dst`` (one of each per peer: thousands on a big cluster) --
decide nothing about ownership, so ``plan`` does not read them. ``apply`` reads them
here and backs them up with their device, so ``restore`` puts them back.

pyroute2 decoding is CPU-bound, so ``apply`` has these tables read by the child
interpreter it starts before anything else (it only reads; see
:mod:`cniscrub.node.netlink_child`): they are decoded on the other core while this
process takes the inventory, as fresh as the plan (measured on the bench's large
node: 0.10 s of decoding when read in this process; apply waits <= 0.01 s for the
child). If the child cannot run or its answer is unusable, the same read runs in
this process.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cniscrub.node.netlink_child import DumpChild

log = logging.getLogger(__name__)


def covers_by_index(tables: dict[str, list[dict[str, Any]]]) -> dict[int, list[Any]]:
    """Pure: :func:`cniscrub.node.netlink.link_tables` output (only entries that go
    with their device) -> resource JSON per ifindex.

    >>> t = {"neighbours": [{"family": 2, "ifindex": 6, "state": 128,
    ...                      "attrs": {"NDA_DST": "10.244.1.0"}}], "fdb": []}
    >>> [c["key"] for c in covers_by_index(t)[6]]
    ['6:10.244.1.0']
    """
    from cniscrub.inventory import neighbours

    out: dict[int, list[dict[str, Any]]] = {}
    found = [
        *neighbours.parse(tables.get("neighbours", [])),
        *neighbours.parse_fdb(tables.get("fdb", [])),
    ]
    for res in found:
        out.setdefault(res.data["index"], []).append(res.to_json())
    return out


class LinkState:
    """Neighbours and vxlan FDB entries per ifindex: the ``link-tables`` section of
    a :class:`~cniscrub.node.netlink_child.DumpChild` when given (else read in this
    process on first use)."""

    def __init__(self, child: DumpChild | None = None) -> None:
        self._child = child
        self._covers: dict[int, list[dict[str, Any]]] | None = None

    def covers(self, index: int) -> list[dict[str, Any]]:
        """What goes with ifindex ``index`` (raises OSError if it cannot be read)."""
        if self._covers is None:
            start = time.monotonic()
            tables = self._child.take("link-tables") if self._child else None
            waited = time.monotonic() - start
            if tables is None:
                from cniscrub.node import netlink

                tables = netlink.link_tables()
            self._covers = covers_by_index(tables)
            log.debug(
                "link tables: %d neighbours, %d FDB entries (waited %.3fs, %.3fs)",
                len(tables.get("neighbours", [])),
                len(tables.get("fdb", [])),
                waited,
                time.monotonic() - start,
            )
        return list(self._covers.get(index, []))
