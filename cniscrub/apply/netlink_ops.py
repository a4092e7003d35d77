"""Remove routes and links through pyroute2.

Links are deleted in ONE kernel operation: every target is moved into a private,
unused link group and the group is deleted (``RTM_DELLINK`` with ``IFLA_GROUP``), so the
kernel unregisters them together instead of paying one RCU grace period per device.
Deleting a host-side veth takes its pod end with it.

>>> pick_group({0, 1}) >= 0x10000000
True
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Sequence
from typing import Any

from cniscrub.plan.model import Action

log = logging.getLogger(__name__)


def pick_group(used: set[int]) -> int:
    while True:
        group = 0x10000000 + secrets.randbelow(0x60000000)
        if group not in used:
            return group


def _route_args(d: dict[str, Any]) -> dict[str, Any]:
    args: dict[str, Any] = {
        "family": 10 if d["family"] == 6 else 2,
        "table": d["table"],
        "type": d["type"],
    }
    if d["dst"] and d["dst"] != "default":
        args["dst"] = d["dst"]
    for key, nl in (("gateway", "gateway"), ("oif", "oif"), ("priority", "priority")):
        if d.get(key) is not None:
            args[nl] = d[key]
    if d["type"] == "blackhole":
        args.pop("oif", None)
    return args


def delete_routes(actions: Sequence[Action]) -> dict[int, str | None]:
    from pyroute2 import IPRoute
    from pyroute2.netlink.exceptions import NetlinkError

    out: dict[int, str | None] = {}
    with IPRoute() as ipr:
        for a in actions:
            try:
                ipr.route("del", **_route_args(a.data["resource"]["data"]))
                out[a.id] = None
            except NetlinkError as exc:
                out[a.id] = (
                    None if exc.code == 3 else f"route del failed: {exc}"
                )  # ESRCH
    return out


def delete_links(actions: Sequence[Action]) -> dict[int, str | None]:
    """Delete all links of ``actions`` in one group operation (one message per move,
    one for the delete, one dump to confirm, all over one pyroute2 socket)."""
    from pyroute2 import IPRoute
    from pyroute2.netlink.exceptions import NetlinkError

    from cniscrub.node.netlink import dump_with

    out: dict[int, str | None] = {}
    with IPRoute() as ipr:
        current = {m["attrs"].get("IFLA_IFNAME"): m for m in dump_with(ipr, "links")}
        group = pick_group(
            {m["attrs"].get("IFLA_GROUP") or 0 for m in current.values()}
        )
        moved = []
        for a in actions:
            link = current.get(a.key)
            want = a.data["resource"]["data"]
            if link is None:
                out[a.id] = None  # already gone (with its peer or bridge): converged
            elif link["index"] != want["index"]:
                out[a.id] = (
                    f"{a.key} was re-created (ifindex {link['index']}); not deleted"
                )
            else:
                try:
                    ipr.link("set", index=link["index"], group=group)
                except (NetlinkError, OSError) as exc:
                    out[a.id] = f"cannot move {a.key} into the delete group: {exc}"
                    continue
                moved.append(a)
        if moved:
            try:  # RTM_DELLINK, ifindex 0 + IFLA_GROUP: the whole group at once
                ipr.link("del", group=group)
            except (NetlinkError, OSError) as exc:
                for a in moved:
                    out[a.id] = f"group delete failed: {exc}"
                return out
        after = {
            (m["index"], m["attrs"].get("IFLA_IFNAME")) for m in dump_with(ipr, "links")
        }
        for a in moved:
            there = (a.data["resource"]["data"]["index"], a.key) in after
            out[a.id] = f"{a.key} still present" if there else None
    return out
