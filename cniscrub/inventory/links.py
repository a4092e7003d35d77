"""Inventory of network links (and their addresses), from a pyroute2 dump.

``parse`` keeps what ownership and restore need: name, kind, master, MAC, MTU, the
vxlan/ipip attributes, the veth peer and its network namespace id.

>>> raw = [{"index": 3, "flags": 65, "attrs": {"IFLA_IFNAME": "flannel.1",
...   "IFLA_LINKINFO": {"IFLA_INFO_KIND": "vxlan",
...                     "IFLA_INFO_DATA": {"IFLA_VXLAN_ID": 1}}}}]
>>> r = parse(raw)[0]; (r.key, r.data["kind"], r.data["vxlan"]["id"])
('flannel.1', 'vxlan', 1)
"""

from __future__ import annotations

from typing import Any

from cniscrub.inventory.model import Resource

IFF_UP = 0x1

VXLAN_KEYS = {
    "IFLA_VXLAN_ID": "id",
    "IFLA_VXLAN_LOCAL": "local",
    "IFLA_VXLAN_LOCAL6": "local",
    "IFLA_VXLAN_PORT": "port",
    "IFLA_VXLAN_LINK": "link",
    "IFLA_VXLAN_LEARNING": "learning",
    "IFLA_VXLAN_TTL": "ttl",
    "IFLA_VXLAN_GBP": "gbp",
}
TUNNEL_KEYS = {
    "IFLA_IPTUN_LOCAL": "local",
    "IFLA_IPTUN_REMOTE": "remote",
    "IFLA_IPTUN_TTL": "ttl",
    "IFLA_IPTUN_LINK": "link",
}


def _pick(data: dict[str, Any], keys: dict[str, str]) -> dict[str, Any]:
    return {new: data[old] for old, new in keys.items() if old in data}


def _one(msg: dict[str, Any]) -> dict[str, Any]:
    attrs = msg.get("attrs", {})
    info = attrs.get("IFLA_LINKINFO") or {}
    kind = info.get("IFLA_INFO_KIND") or "device"
    data: dict[str, Any] = {
        "index": msg.get("index"),
        "name": attrs.get("IFLA_IFNAME"),
        "kind": kind,
        "mac": attrs.get("IFLA_ADDRESS"),
        "mtu": attrs.get("IFLA_MTU"),
        "up": bool(msg.get("flags", 0) & IFF_UP),
        "group": attrs.get("IFLA_GROUP", 0),
        "master": attrs.get("IFLA_MASTER"),
        "peer": attrs.get("IFLA_LINK"),
        "peer_netnsid": attrs.get("IFLA_LINK_NETNSID"),
        "slave_kind": info.get("IFLA_INFO_SLAVE_KIND"),
    }
    info_data = info.get("IFLA_INFO_DATA") or {}
    if kind == "vxlan":
        data["vxlan"] = _pick(info_data, VXLAN_KEYS)
    elif kind in ("ipip", "sit", "ip6tnl"):
        data["tunnel"] = _pick(info_data, TUNNEL_KEYS)
    elif kind == "tun":
        data["tun_type"] = info_data.get("IFLA_TUN_TYPE")
    return data


def parse(raw: list[dict[str, Any]]) -> list[Resource]:
    """Pure: compact RTM_NEWLINK dicts -> ``link`` resources keyed by name."""
    links = [_one(m) for m in raw]
    names = {d["index"]: d["name"] for d in links}
    for d in links:
        d["master_name"] = names.get(d["master"])
        if d["peer_netnsid"] is None:
            d["peer_name"] = names.get(d["peer"]) if d["kind"] == "veth" else None
        link = d.get("vxlan", d.get("tunnel", {})).get("link")
        if link:
            d["underlay"] = names.get(link)
    return [Resource("link", str(d["name"]), d) for d in links]
