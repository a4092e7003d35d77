"""Remove routes and links through pyroute2.

Links are deleted in ONE kernel operation: every target is moved into a private link
group unused on the node (one batched send) and the group is deleted (``RTM_DELLINK``
with ``IFLA_GROUP``), so the kernel unregisters them together instead of paying one RCU
grace period per device (bench, large node: 112 links in about 0.10 s; the k3s-style
cleaner's one-veth-at-a-time step takes 2.3 s for its 110 veths).
Deleting a host-side veth takes its pod end with it.

>>> pick_group({0, 1}) >= 0x10000000
True
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Sequence
from typing import Any

from cniscrub.apply.result import APPLIED, GONE, Outcome, failed
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


def delete_routes(actions: Sequence[Action]) -> dict[int, Outcome]:
    from pyroute2.iproute.linux import IPRoute
    from pyroute2.netlink.exceptions import NetlinkError

    out: dict[int, Outcome] = {}
    with IPRoute() as ipr:
        for a in actions:
            try:
                ipr.route("del", **_route_args(a.data["resource"]["data"]))
                out[a.id] = APPLIED
            except NetlinkError as exc:
                gone = exc.code == 3  # ESRCH
                out[a.id] = GONE if gone else failed(f"route del failed: {exc}")
    return out


def _move_into(ipr: Any, indexes: Sequence[int], group: int) -> set[int]:
    """Set ``IFLA_GROUP`` on every index in ONE send (pyroute2's
    ``nlm_request_batch``: one RTM_NEWLINK each with an ack); the indexes whose move
    was acknowledged."""
    from pyroute2.netlink import NLM_F_ACK, NLM_F_REQUEST
    from pyroute2.netlink.rtnl import RTM_NEWLINK
    from pyroute2.netlink.rtnl.ifinfmsg import ifinfmsg

    msgs, index_of_seq = [], {}
    for index in indexes:
        msg = ifinfmsg()
        msg["index"] = index
        msg["attrs"] = [("IFLA_GROUP", group)]
        msg["header"]["type"] = RTM_NEWLINK
        msg["header"]["flags"] = NLM_F_REQUEST | NLM_F_ACK
        msgs.append(msg)
    if not msgs:
        return set()
    acks = ipr.nlm_request_batch(msgs, noraise=True)  # errors are left out
    for msg, index in zip(msgs, indexes, strict=True):
        index_of_seq[msg["header"]["sequence_number"]] = index
    return {index_of_seq[m["header"]["sequence_number"]] for m in acks}


def _to_old_groups(ipr: Any, actions: Sequence[Action]) -> None:
    """Put planned links back into the group each was in."""
    back: dict[int, list[int]] = {}
    for a in actions:
        d = a.data["resource"]["data"]
        back.setdefault(d.get("group") or 0, []).append(d["index"])
    for old, indexes in back.items():
        _move_into(ipr, indexes, old)


def delete_links(
    actions: Sequence[Action], groups_in_use: set[int]
) -> dict[int, Outcome]:
    """Delete all links of ``actions`` in one kernel operation: move each (by the
    ifindex the plan saw) into a private link group that no device was in when the
    plan's inventory was taken -- one batch, one ack per link -- then delete that
    group. A link whose move is refused because it is gone (with its veth peer or
    its bridge) counts as done.

    The ifindexes come from the inventory taken under the lock a moment earlier, and
    the kernel hands ifindexes out cyclically (a deleted device's index is not given
    to a new device until the 31-bit counter wraps), so an index still names the
    planned device."""
    from pyroute2.iproute.linux import IPRoute
    from pyroute2.netlink.exceptions import NetlinkError

    out: dict[int, Outcome] = {}
    want = {a.id: a.data["resource"]["data"]["index"] for a in actions}
    with IPRoute() as ipr:
        group = pick_group(groups_in_use)
        moved_indexes = _move_into(ipr, sorted(set(want.values())), group)
        moved = [a for a in actions if want[a.id] in moved_indexes]
        for a in actions:
            if want[a.id] in moved_indexes:
                continue
            try:
                ipr.get_links(want[a.id])
                out[a.id] = failed(f"cannot move {a.key} into the delete group")
            except NetlinkError as exc:
                gone = exc.code == 19  # ENODEV: already gone, converged
                out[a.id] = GONE if gone else failed(f"{a.key}: {exc}")
        if moved:
            try:  # RTM_DELLINK, ifindex 0 + IFLA_GROUP: the whole group at once
                ipr.link("del", group=group)
            except (NetlinkError, OSError) as exc:
                _to_old_groups(ipr, moved)
                for a in moved:
                    out[a.id] = failed(f"group delete failed: {exc}")
                return out
        for a in moved:
            out[a.id] = APPLIED
    return out
