"""Dump netlink state as compact, JSON-able dicts: :func:`dump` reads over a raw
rtnetlink socket (:mod:`cniscrub.node.rtnl`, no pyroute2 import: ~15x faster);
:func:`dump_pyroute2` is the pyroute2 reference reading the tests compare it with.

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


def dump(what: str) -> list[dict[str, Any]]:
    """``links``, ``addresses``, ``routes``, ``neighbours`` or ``fdb``."""
    from cniscrub.node import rtnl

    return rtnl.dump(what)


def dump_pyroute2(what: str) -> list[dict[str, Any]]:
    """Reference: the same dump through pyroute2 (decodes every attribute: slow)."""
    from pyroute2 import IPRoute

    with IPRoute() as ipr:
        if what == "links":
            msgs = ipr.get_links()
        elif what == "addresses":
            msgs = ipr.get_addr()
        elif what == "routes":
            msgs = list(ipr.route("dump"))
        elif what == "neighbours":
            msgs = [*ipr.get_neighbours(family=2), *ipr.get_neighbours(family=10)]
        elif what == "fdb":
            msgs = ipr.get_neighbours(family=7)
        else:
            raise ValueError(what)
        return [selective(m, KEEP[what]) for m in msgs]
