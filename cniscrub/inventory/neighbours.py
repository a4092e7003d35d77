"""Inventory of ARP/NDP neighbours and bridge/vxlan FDB entries.

Both come from RTM_GETNEIGH: families 2/10 are neighbours, family 7 (AF_BRIDGE) is
the forwarding database.

>>> raw = [{"family": 7, "ifindex": 3, "state": 128, "flags": 2,
...         "attrs": {"NDA_LLADDR": "aa:bb:cc:dd:ee:ff", "NDA_DST": "198.18.0.12"}}]
>>> parse_fdb(raw)[0].data["dst"]
'198.18.0.12'
"""

from __future__ import annotations

from typing import Any

from cniscrub.inventory.model import Resource

NUD_PERMANENT = 0x80
NTF_SELF = 0x02


def parse(raw: list[dict[str, Any]]) -> list[Resource]:
    """Pure: neighbour dicts -> ``neighbour`` resources keyed ``<ifindex>:<ip>``."""
    out = []
    for msg in raw:
        attrs = msg.get("attrs", {})
        data = {
            "family": 6 if msg.get("family") == 10 else 4,
            "index": msg.get("ifindex"),
            "dst": attrs.get("NDA_DST"),
            "lladdr": attrs.get("NDA_LLADDR"),
            "permanent": bool(msg.get("state", 0) & NUD_PERMANENT),
            "state": msg.get("state", 0),
        }
        out.append(Resource("neighbour", f"{data['index']}:{data['dst']}", data))
    return out


def parse_fdb(raw: list[dict[str, Any]]) -> list[Resource]:
    """Pure: AF_BRIDGE neighbour dicts -> ``fdb`` resources."""
    out = []
    for msg in raw:
        attrs = msg.get("attrs", {})
        data = {
            "index": msg.get("ifindex"),
            "lladdr": attrs.get("NDA_LLADDR"),
            "dst": attrs.get("NDA_DST"),
            "self": bool(msg.get("flags", 0) & NTF_SELF),
            "permanent": bool(msg.get("state", 0) & NUD_PERMANENT),
            "master": attrs.get("NDA_MASTER"),
            "vlan": attrs.get("NDA_VLAN"),
        }
        key = f"{data['index']}:{data['lladdr']}:{data['dst']}:{data['master']}"
        out.append(Resource("fdb", key, data))
    return out
