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


def _move_into(ipr: Any, indexes: Sequence[int], group: int) -> None:
    """Set ``IFLA_GROUP`` on every index in ONE send (pyroute2's
    ``nlm_request_batch``: one RTM_NEWLINK each, acks read back). Errors (a link that
    is already gone) are not raised: the dump that follows says what moved."""
    from pyroute2.netlink import NLM_F_ACK, NLM_F_REQUEST
    from pyroute2.netlink.rtnl import RTM_NEWLINK
    from pyroute2.netlink.rtnl.ifinfmsg import ifinfmsg

    msgs = []
    for index in indexes:
        msg = ifinfmsg()
        msg["index"] = index
        msg["attrs"] = [("IFLA_GROUP", group)]
        msg["header"]["type"] = RTM_NEWLINK
        msg["header"]["flags"] = NLM_F_REQUEST | NLM_F_ACK
        msgs.append(msg)
    if msgs:
        ipr.nlm_request_batch(msgs, noraise=True)


def delete_links(actions: Sequence[Action]) -> dict[int, str | None]:
    """Delete all links of ``actions`` in one group operation: move them (by the
    ifindex the plan saw) into a fresh private group in one batch, dump the links to
    see exactly who is in it, put back any device that is not the planned one (its
    ifindex was reused: it returns to the default group 0), delete the group."""
    from pyroute2 import IPRoute
    from pyroute2.netlink.exceptions import NetlinkError

    from cniscrub.node.netlink import dump_with

    out: dict[int, str | None] = {}
    with IPRoute() as ipr:
        groups = {m["attrs"].get("IFLA_GROUP") or 0 for m in dump_with(ipr, "links")}
        group = pick_group(groups)
        want = {a.id: a.data["resource"]["data"]["index"] for a in actions}
        _move_into(ipr, sorted(set(want.values())), group)
        now = dump_with(ipr, "links")
        name_of = {m["index"]: m["attrs"].get("IFLA_IFNAME") for m in now}
        index_of = {name: index for index, name in name_of.items()}
        members = {m["index"] for m in now if m["attrs"].get("IFLA_GROUP") == group}
        planned = {(want[a.id], a.key) for a in actions}
        strays = [i for i in members if (i, name_of[i]) not in planned]
        if strays:
            _move_into(ipr, strays, 0)
        moved = []
        for a in actions:
            index = want[a.id]
            if index in members and index not in strays:
                moved.append(a)
            elif index in name_of and index not in strays:
                out[a.id] = f"cannot move {a.key} into the delete group"
            elif index in strays:
                out[a.id] = f"ifindex {index} is now {name_of[index]}; not deleted"
            elif a.key in index_of:
                out[a.id] = (
                    f"{a.key} was re-created (ifindex {index_of[a.key]}); not deleted"
                )
            else:
                out[a.id] = None  # already gone (with its peer or bridge): converged
        if moved:
            try:  # RTM_DELLINK, ifindex 0 + IFLA_GROUP: the whole group at once
                ipr.link("del", group=group)
            except (NetlinkError, OSError) as exc:
                back: dict[int, list[int]] = {}  # each link to the group it was in
                for a in moved:
                    old = a.data["resource"]["data"].get("group") or 0
                    back.setdefault(old, []).append(want[a.id])
                for old, indexes in back.items():
                    _move_into(ipr, indexes, old)
                for a in moved:
                    out[a.id] = f"group delete failed: {exc}"
                return out
        for a in moved:
            out[a.id] = None
    return out
