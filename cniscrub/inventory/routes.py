"""Inventory of routes in every table, both families, incl. blackhole routes.

>>> raw = [{"family": 2, "dst_len": 24, "table": 254, "proto": 3, "scope": 0,
...         "type": 6, "flags": 0, "attrs": {"RTA_DST": "10.244.1.0"}}]
>>> parse(raw)[0].data["type"]
'blackhole'
"""

from __future__ import annotations

from typing import Any

from cniscrub.inventory.model import Resource

RTN_TYPES = {
    1: "unicast",
    2: "local",
    3: "broadcast",
    5: "multicast",
    6: "blackhole",
    7: "unreachable",
    8: "prohibit",
}
RTNH_F_ONLINK = 4
PROTO_KERNEL = 2


def _one(msg: dict[str, Any]) -> dict[str, Any]:
    attrs = msg.get("attrs", {})
    family = 6 if msg.get("family") == 10 else 4
    dst_len = msg.get("dst_len", 0)
    dst = attrs.get("RTA_DST")
    return {
        "family": family,
        "table": attrs.get("RTA_TABLE", msg.get("table")),
        "dst": f"{dst}/{dst_len}" if dst else ("default" if dst_len == 0 else None),
        "gateway": attrs.get("RTA_GATEWAY"),
        "oif": attrs.get("RTA_OIF"),
        "type": RTN_TYPES.get(msg.get("type", 1), str(msg.get("type"))),
        "proto": msg.get("proto", 0),
        "scope": msg.get("scope", 0),
        "priority": attrs.get("RTA_PRIORITY"),
        "prefsrc": attrs.get("RTA_PREFSRC"),
        "onlink": bool(msg.get("flags", 0) & RTNH_F_ONLINK),
        "multipath": "RTA_MULTIPATH" in attrs,
    }


def route_key(d: dict[str, Any]) -> str:
    parts = (d["family"], d["table"], d["type"], d["dst"], d["gateway"], d["oif"])
    return ":".join(str(p) for p in (*parts, d["priority"]))


def parse(raw: list[dict[str, Any]]) -> list[Resource]:
    """Pure: RTM_NEWROUTE dicts -> ``route`` resources."""
    return [Resource("route", route_key(d), d) for d in map(_one, raw)]
