"""Dump netlink state through pyroute2 as compact, JSON-able dicts: :func:`dump` (one
kind) and :func:`dump_many` (several kinds over one ``IPRoute`` socket). Only the
attributes the inventory parsers read are decoded (:func:`selective`), and a dump the
kernel flags inconsistent (``NLM_F_DUMP_INTR``: state changed under it) is taken again,
at most :data:`DUMP_RETRIES` times. Neighbours and FDB entries can be read for one
device only, filtered by the kernel (``dump_with(..., index=N)``): a vxlan device holds
one of each per peer, and nothing else on the node needs decoding for its backup.

The inventory parsers work on these dicts (not on pyroute2 objects) so they are pure
and their golden fixtures are plain JSON. Statistics and unknown attributes are dropped:

>>> compact({"attrs": [["IFLA_IFNAME", "lo"], ["IFLA_STATS", {}]], "index": 1,
...          "header": {}})
{'index': 1, 'attrs': {'IFLA_IFNAME': 'lo'}}
"""

from __future__ import annotations

from typing import Any

DROP = ("STATS", "UNKNOWN", "IFLA_AF_SPEC", "IFLA_MAP", "IFLA_XDP", "CACHEINFO")


def compact(msg: dict[str, Any]) -> dict[str, Any]:
    """A pyroute2 ``dump()`` with attrs as a dict, recursively, without noise."""
    out: dict[str, Any] = {k: v for k, v in msg.items() if k not in ("attrs", "header")}
    attrs: dict[str, Any] = {}
    for item in msg.get("attrs", []):
        name, value = item[0], item[1]
        if any(d in name for d in DROP):
            continue
        if isinstance(value, dict) and "attrs" in value:
            value = compact(value)["attrs"]
        attrs[name] = value
    out["attrs"] = attrs
    return out


KEEP = {
    "links": (
        "IFLA_IFNAME",
        "IFLA_ADDRESS",
        "IFLA_MTU",
        "IFLA_GROUP",
        "IFLA_MASTER",
        "IFLA_LINK",
        "IFLA_LINK_NETNSID",
        "IFLA_LINKINFO",
    ),
    "addresses": ("IFA_ADDRESS", "IFA_LOCAL", "IFA_LABEL", "IFA_FLAGS"),
    "routes": (
        "RTA_TABLE",
        "RTA_DST",
        "RTA_GATEWAY",
        "RTA_OIF",
        "RTA_PRIORITY",
        "RTA_PREFSRC",
        "RTA_MULTIPATH",
    ),
    "neighbours": ("NDA_DST", "NDA_LLADDR"),
    "fdb": ("NDA_DST", "NDA_LLADDR", "NDA_MASTER", "NDA_VLAN"),
}
LINKINFO_DATA = ("vxlan", "ipip", "sit", "ip6tnl", "tun")


def _value(value: Any) -> Any:
    if hasattr(value, "dump"):
        return compact(value.dump())["attrs"]
    return value


def selective(msg: Any, keep: tuple[str, ...]) -> dict[str, Any]:
    """Like :func:`compact` but decodes only the attributes in ``keep`` (fast)."""
    out = {
        k: v for k, v in msg.items() if k not in ("attrs", "header", "__align", "__pad")
    }
    attrs: dict[str, Any] = {}
    for name in keep:
        value = msg.get_attr(name)
        if value is None:
            continue
        if name == "IFLA_LINKINFO":
            kind = value.get_attr("IFLA_INFO_KIND")
            value = {
                "IFLA_INFO_KIND": kind,
                "IFLA_INFO_SLAVE_KIND": value.get_attr("IFLA_INFO_SLAVE_KIND"),
                "IFLA_INFO_DATA": _value(value.get_attr("IFLA_INFO_DATA"))
                if kind in LINKINFO_DATA
                else None,
            }
        attrs[name] = _value(value)
    out["attrs"] = attrs
    return out


DUMP_RETRIES = 5
NLM_F_DUMP_INTR = 0x10
AF_INET, AF_INET6, AF_BRIDGE = 2, 10, 7


def _filtered(ipr: Any, family: int, index: int) -> list[Any]:
    """RTM_GETNEIGH dump the kernel filters to one device: ``NDA_IFINDEX`` for
    neighbours; for the FDB (AF_BRIDGE) the header's ifindex, which the kernel honours
    on a socket with ``NETLINK_GET_STRICT_CHK`` (pyroute2's ``strict_check=True``)."""
    from pyroute2.netlink import NLM_F_DUMP, NLM_F_REQUEST
    from pyroute2.netlink.rtnl import RTM_GETNEIGH
    from pyroute2.netlink.rtnl.ndmsg import ndmsg

    msg = ndmsg()
    msg["family"] = family
    if family == AF_BRIDGE:
        msg["ifindex"] = index
    else:
        msg["attrs"] = [("NDA_IFINDEX", index)]
    msg["header"]["type"] = RTM_GETNEIGH
    msg["header"]["flags"] = NLM_F_DUMP | NLM_F_REQUEST
    return [m for m in ipr.nlm_request_batch([msg]) if m["header"]["type"] != 3]


def _messages(ipr: Any, what: str, index: int | None) -> list[Any]:
    if what == "links":
        return list(ipr.get_links())
    if what == "addresses":
        return list(ipr.get_addr())
    if what == "routes":
        return list(ipr.route("dump"))
    if what == "neighbours" and index is not None:
        return [*_filtered(ipr, AF_INET, index), *_filtered(ipr, AF_INET6, index)]
    if what == "neighbours":
        return [
            *ipr.get_neighbours(family=AF_INET),
            *ipr.get_neighbours(family=AF_INET6),
        ]
    if what == "fdb" and index is not None:
        return _filtered(ipr, AF_BRIDGE, index)
    if what == "fdb":
        return list(ipr.get_neighbours(family=AF_BRIDGE))
    raise ValueError(what)


def _interrupted(msgs: list[Any]) -> bool:
    return any(m["header"].get("flags", 0) & NLM_F_DUMP_INTR for m in msgs)


def dump_with(ipr: Any, what: str, index: int | None = None) -> list[dict[str, Any]]:
    """``links``, ``addresses``, ``routes``, ``neighbours`` or ``fdb`` read over the
    open pyroute2 socket ``ipr`` (raises OSError if every try was interrupted).
    ``index``: only that device's neighbours or FDB entries, filtered by the kernel
    (the FDB filter needs a socket opened with ``strict_check=True``)."""
    from pyroute2.netlink.exceptions import NetlinkDumpInterrupted, NetlinkError

    keep = KEEP.get(what)
    if keep is None or (index is not None and what not in ("neighbours", "fdb")):
        raise ValueError(what)
    for _ in range(DUMP_RETRIES):
        try:
            msgs = _messages(ipr, what, index)
        except NetlinkDumpInterrupted:
            continue
        except NetlinkError as exc:
            raise OSError(exc.code, f"netlink {what} dump failed: {exc}") from exc
        if not _interrupted(msgs):
            return [selective(m, keep) for m in msgs]
    raise OSError(4, f"netlink {what} dump kept being interrupted (state changing)")


def dump_many(kinds: tuple[str, ...]) -> dict[str, list[dict[str, Any]]]:
    """Several dumps over one ``IPRoute`` socket."""
    from pyroute2 import IPRoute

    with IPRoute() as ipr:
        return {what: dump_with(ipr, what) for what in kinds}


def dump(what: str) -> list[dict[str, Any]]:
    """``links``, ``addresses``, ``routes``, ``neighbours`` or ``fdb``."""
    return dump_many((what,))[what]
