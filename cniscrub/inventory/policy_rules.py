"""Inventory of policy-routing rules (``ip rule``), both families, from netlink.

Each rule keeps every selector and its action, so it can be matched exactly, deleted
exactly (priority included) and put back exactly.

>>> raw = [{"family": 2, "src_len": 24, "dst_len": 0, "tos": 0, "action": 1,
...         "flags": 0, "table": 77,
...         "attrs": {"FRA_TABLE": 77, "FRA_PRIORITY": 32765, "FRA_SRC": "10.244.1.0"}}]
>>> r = parse(raw)[0]; (r.key, r.data["src"], r.data["table"])
('4:32765:10.244.1.0/24:None:77:to_tbl:None:None:None', '10.244.1.0/24', 77)
"""

from __future__ import annotations

from typing import Any

from cniscrub.inventory.model import Resource

ACTIONS = {
    1: "to_tbl",
    2: "goto",
    3: "nop",
    6: "blackhole",
    7: "unreachable",
    8: "prohibit",
}
FIB_RULE_INVERT = 0x2


def _prefix(addr: str | None, plen: int) -> str | None:
    return f"{addr}/{plen}" if addr else None


def _one(msg: dict[str, Any]) -> dict[str, Any]:
    a = msg.get("attrs", {})
    return {
        "family": 6 if msg.get("family") == 10 else 4,
        "priority": a.get("FRA_PRIORITY", 0),
        "table": a.get("FRA_TABLE", msg.get("table")),
        "action": ACTIONS.get(msg.get("action", 1), str(msg.get("action"))),
        "src": _prefix(a.get("FRA_SRC"), msg.get("src_len", 0)),
        "dst": _prefix(a.get("FRA_DST"), msg.get("dst_len", 0)),
        "tos": msg.get("tos", 0),
        "fwmark": a.get("FRA_FWMARK"),
        "fwmask": a.get("FRA_FWMASK"),
        "iif": a.get("FRA_IIFNAME"),
        "oif": a.get("FRA_OIFNAME"),
        "goto": a.get("FRA_GOTO"),
        "protocol": a.get("FRA_PROTOCOL"),
        "invert": bool(msg.get("flags", 0) & FIB_RULE_INVERT),
    }


def rule_key(d: dict[str, Any]) -> str:
    parts = ("family", "priority", "src", "dst", "table", "action", "fwmark", "iif")
    return ":".join(str(d[p]) for p in (*parts, "oif"))


def parse(raw: list[dict[str, Any]]) -> list[Resource]:
    """Pure: FIB rule dicts (netlink, attrs as a dict) -> ``ip_rule`` resources."""
    return [Resource("ip_rule", rule_key(d), d) for d in map(_one, raw)]
