"""Inventory of ipsets (``ipset save``'s content) over netlink, with their members.

``collect`` lists every set through pyroute2 (the ``ipset`` binary need not be on the
node) and returns each message as pyroute2 dumps it (attributes as ``[name, value]``
lists, so repeated member entries survive); ``parse`` is pure: one ``ipset`` resource
per set with its type, family, create options, how many kernel objects reference it,
and its members as ``ipset save`` would print them.

>>> msg = {"attrs": [["IPSET_ATTR_SETNAME", "example"], ["IPSET_ATTR_TYPENAME",
...   "hash:net"], ["IPSET_ATTR_FAMILY", 2], ["IPSET_ATTR_DATA", {"attrs": [
...   ["IPSET_ATTR_HASHSIZE", 1024], ["IPSET_ATTR_MAXELEM", 65536],
...   ["IPSET_ATTR_TIMEOUT", 0], ["IPSET_ATTR_REFERENCES", 1]]}],
...   ["IPSET_ATTR_ADT", {"attrs": [["IPSET_ATTR_DATA", {"attrs": [
...   ["IPSET_ATTR_IP_FROM", {"attrs": [["IPSET_ATTR_IPADDR_IPV4", "10.244.1.0"]]}],
...   ["IPSET_ATTR_CIDR", 24], ["IPSET_ATTR_TIMEOUT", 0]]}]]}]]}
>>> d = parse([msg])[0].data
>>> (d["type"], d["options"], d["references"])
('hash:net', {'hashsize': 1024, 'maxelem': 65536, 'timeout': 0}, 1)
>>> d["members"]
[{'entry': '10.244.1.0/24', 'timeout': 0}]
"""

from __future__ import annotations

from typing import Any

from cniscrub.inventory.model import Resource

OPTIONS = {
    "IPSET_ATTR_HASHSIZE": "hashsize",
    "IPSET_ATTR_MAXELEM": "maxelem",
    "IPSET_ATTR_TIMEOUT": "timeout",
    "IPSET_ATTR_NETMASK": "netmask",
    "IPSET_ATTR_SIZE": "size",
}
PROTOCOLS = {6: "tcp", 17: "udp", 132: "sctp", 1: "icmp", 58: "icmpv6"}


def _attrs(node: Any) -> list[tuple[str, Any]]:
    items = node.get("attrs", []) if isinstance(node, dict) else []
    return [(str(item[0]), item[1]) for item in items]


def _first(node: Any, name: str) -> Any:
    return next((v for k, v in _attrs(node) if k == name), None)


def _ip(node: Any) -> str | None:
    return next((str(v) for _, v in _attrs(node)), None)


def _entry(data: Any) -> dict[str, Any]:
    """One member as ``ipset save`` prints it: components joined by commas."""
    parts: list[str] = []
    ip, cidr = _ip(_first(data, "IPSET_ATTR_IP_FROM")), _first(data, "IPSET_ATTR_CIDR")
    if ip:
        parts.append(f"{ip}/{cidr}" if cidr is not None else ip)
    port = _first(data, "IPSET_ATTR_PORT_FROM")
    if port is None:
        port = _first(data, "IPSET_ATTR_PORT")
    if port is not None:
        proto = _first(data, "IPSET_ATTR_PROTO")
        parts.append(f"{PROTOCOLS.get(proto, proto)}:{port}" if proto else str(port))
    ip2, cidr2 = _ip(_first(data, "IPSET_ATTR_IP2")), _first(data, "IPSET_ATTR_CIDR2")
    if ip2:
        parts.append(f"{ip2}/{cidr2}" if cidr2 is not None else ip2)
    for name in ("IPSET_ATTR_IFACE", "IPSET_ATTR_NAME"):
        value = _first(data, name)
        if value is not None:
            parts.append(str(value))
    out: dict[str, Any] = {"entry": ",".join(parts)}
    timeout = _first(data, "IPSET_ATTR_TIMEOUT")
    if timeout is not None:
        out["timeout"] = timeout
    return out


def _one(msg: dict[str, Any]) -> dict[str, Any]:
    data = _first(msg, "IPSET_ATTR_DATA")
    options = {OPTIONS[k]: v for k, v in _attrs(data) if k in OPTIONS and v is not None}
    adt = _first(msg, "IPSET_ATTR_ADT")
    members = [_entry(v) for k, v in _attrs(adt) if k == "IPSET_ATTR_DATA"]
    return {
        "name": _first(msg, "IPSET_ATTR_SETNAME"),
        "type": _first(msg, "IPSET_ATTR_TYPENAME"),
        "family": 6 if _first(msg, "IPSET_ATTR_FAMILY") == 10 else 4,
        "options": options,
        "references": _first(data, "IPSET_ATTR_REFERENCES") or 0,
        "members": sorted(members, key=lambda m: m["entry"]),
    }


def parse(raw: list[dict[str, Any]]) -> list[Resource]:
    """Pure: ipset list messages (pyroute2 ``dump()``) -> ``ipset`` resources. A set
    listed in several messages (big sets are split) is merged."""
    sets: dict[str, dict[str, Any]] = {}
    for msg in raw:
        d = _one(msg)
        if d["name"] in sets:
            sets[d["name"]]["members"] = sorted(
                sets[d["name"]]["members"] + d["members"], key=lambda m: m["entry"]
            )
        else:
            sets[d["name"]] = d
    return [Resource("ipset", name, d) for name, d in sets.items()]


def collect() -> tuple[list[dict[str, Any]], list[str]]:
    """Every set as pyroute2 dumps it; a note (never an error) if none can be read."""
    try:
        from pyroute2.ipset import IPSet

        with IPSet() as ipset:
            return [m.dump() for m in ipset.list()], []
    except Exception as exc:  # no ip_set support, no permission, ...
        return [], [f"ipsets not inspected: {type(exc).__name__}: {exc}"]
