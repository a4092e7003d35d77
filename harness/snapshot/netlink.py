"""Links, addresses, routes, ip rules, permanent neighbours and FDB entries as named
objects, from ``ip -j`` / ``bridge -j`` output.

Left out because they change by themselves: link-local IPv6 addresses, the kernel's
``local``/``broadcast`` routes, IPv6 multicast and link-local routes, route flags such
as ``linkdown``, dynamic neighbours, learned and per-port ``self permanent`` FDB
entries.

>>> link_objects([{"ifname": "cni0", "linkinfo": {"info_kind": "bridge"}}])
{'link cni0 (bridge)': ''}
>>> route_objects([{"dst": "10.244.2.0/24", "gateway": "10.244.2.0", "dev": "flannel.1",
...                 "flags": ["onlink"]}])
{'route 10.244.2.0/24 via 10.244.2.0 dev flannel.1 onlink': ''}
"""

from __future__ import annotations

import json
from typing import Any

Rows = list[dict[str, Any]]
_KERNEL_PROTOS = {"kernel", "boot", None}


def parse_json(text: str) -> Rows:
    text = text.strip()
    if not text:
        return []
    try:
        data = json.loads(text)
    except ValueError:
        return []
    return data if isinstance(data, list) else []


def parse_batch(text: str, count: int) -> list[Rows]:
    """The ``count`` JSON arrays that ``ip -j -batch`` prints one after another, in
    order (missing or unreadable ones are empty).

    >>> parse_batch('[{"a": 1}]\\n[]\\n[{"b": 2}', 3)
    [[{'a': 1}], [], []]
    """
    decoder = json.JSONDecoder()
    out: list[Rows] = []
    pos, text = 0, text.strip()
    while len(out) < count and pos < len(text):
        try:
            data, pos = decoder.raw_decode(text, pos)
        except ValueError:
            break
        out.append(data if isinstance(data, list) else [])
        while pos < len(text) and text[pos].isspace():
            pos += 1
    return out + [[] for _ in range(count - len(out))]


def link_objects(rows: Rows) -> dict[str, str]:
    out = {}
    for r in rows:
        kind = (r.get("linkinfo") or {}).get("info_kind")
        out[f"link {r['ifname']}" + (f" ({kind})" if kind else "")] = ""
    return out


def peered(rows: Rows) -> set[str]:
    """Names of the ``link …`` objects whose peer lives in another network namespace
    (a pod's veth: it goes when the pod's namespace goes)."""
    return {
        f"link {r['ifname']} ({(r.get('linkinfo') or {}).get('info_kind')})"
        for r in rows
        if "link_netnsid" in r
    }


def address_objects(rows: Rows) -> dict[str, str]:
    out = {}
    for r in rows:
        for a in r.get("addr_info") or []:
            if a.get("scope") == "link" and a.get("family") == "inet6":
                continue
            out[f"address {a['local']}/{a['prefixlen']} on {r['ifname']}"] = ""
    return out


def route_objects(rows: Rows) -> dict[str, str]:
    out = {}
    for r in rows:
        dst = str(r.get("dst", ""))
        kind = r.get("type", "unicast")
        table = r.get("table", "main")
        if table == "local" or kind in ("local", "broadcast", "multicast"):
            continue
        if dst.startswith(("fe80", "ff00", "ff02")):
            continue
        parts = ["route"]
        if table != "main":
            parts.append(f"table {table}")
        if kind != "unicast":
            parts.append(kind)
        parts.append(dst)
        if r.get("gateway"):
            parts.append(f"via {r['gateway']}")
        if r.get("dev"):
            parts.append(f"dev {r['dev']}")
        if r.get("protocol") not in _KERNEL_PROTOS:
            parts.append(f"proto {r['protocol']}")
        if "onlink" in (r.get("flags") or []):
            parts.append("onlink")
        out[" ".join(parts)] = ""
    return out


def rule_objects(text: str, family: str) -> dict[str, str]:
    """``ip rule`` lines (the three default rules are part of every baseline)."""
    name = "ip rule" if family == "4" else "ip -6 rule"
    return {
        f"{name} {' '.join(line.split())}": ""
        for line in text.splitlines()
        if line.strip()
    }


def neighbour_objects(rows: Rows) -> dict[str, str]:
    return {
        f"neighbour {r.get('dst')} lladdr {r.get('lladdr', '-')} on {r.get('dev')}": ""
        for r in rows
        if "PERMANENT" in (r.get("state") or [])
    }


def fdb_objects(rows: Rows) -> dict[str, str]:
    """Entries pointing at a remote VTEP (``dst``) and static user entries."""
    out = {}
    for r in rows:
        if r.get("dst"):
            out[f"fdb {r.get('mac')} dst {r['dst']} on {r.get('ifname')}"] = ""
        elif r.get("state") == "static":
            out[f"fdb {r.get('mac')} on {r.get('ifname')} (static)"] = ""
    return out
