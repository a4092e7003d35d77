"""The node state that real and emulated Flannel must leave alike (the differential
tests of issue 14), read through the ``Node`` protocol and normalised so that only
meaningful differences remain.

What is compared: links and their attributes, addresses, routes (every table, both
families), neighbours, FDB, iptables in both backends (nft-based and legacy) and both
families, nft tables, ``subnet.env``, the files CNI and Flannel own, and the Node
object's Flannel annotations and condition.

What is normalised away, and why (every item is random per run, or a kernel
bookkeeping number, in real clusters too):

- MAC addresses: random for vxlan (VtepMAC), bridges and veths; a MAC that is some
  node's VtepMAC is written ``vtep:<node index>``, any other ``<mac>``;
- veth names (``veth<8 hex>``, random per pod), interface indexes, link-local IPv6
  addresses (derived from MACs), rule counters, nft handles;
- timestamps of conditions, IPAM file contents (container IDs).

>>> normalise_mac("AA:BB:CC:00:00:01", {"aa:bb:cc:00:00:01": "vtep:1"})
'vtep:1'
>>> normalise_ifname("veth1a2b3c4d")
'veth*'
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

from harness.providers.base import Node

ANNOTATION_PREFIX = "flannel.alpha.coreos.com/"
FILES = ("/etc/cni/net.d", "/opt/cni/bin/flannel", "/run/flannel", "/var/lib/cni")
_MAC = re.compile(r"^([0-9a-f]{2}:){5}[0-9a-f]{2}$", re.I)
_VETH = re.compile(r"^veth[0-9a-f]{8}$")
_COUNTERS = re.compile(r"^\[\d+:\d+\] | \[\d+:\d+\]$")
Snapshot = dict[str, Any]


def normalise_mac(mac: str, vteps: dict[str, str]) -> str:
    return vteps.get(mac.lower(), "<mac>")


def normalise_ifname(name: str | None) -> str | None:
    return "veth*" if name and _VETH.match(name) else name


def _ipj(node: Node, *args: str) -> list[dict[str, Any]]:
    out = node.exec(["ip", "-j", *args], check=False).stdout
    return json.loads(out) if out.strip() else []


def links(node: Node, vteps: dict[str, str]) -> list[dict[str, Any]]:
    rows = _ipj(node, "-d", "link", "show")
    names = {r["ifindex"]: r["ifname"] for r in rows}
    out = []
    for r in rows:
        info = r.get("linkinfo") or {}
        data = dict(info.get("info_data") or {})
        if "link" in data:
            data["link"] = names.get(data["link"], data["link"])
        out.append(
            {
                "name": normalise_ifname(r["ifname"]),
                "kind": info.get("info_kind"),
                "mtu": r.get("mtu"),
                "flags": sorted(r.get("flags") or []),
                "master": normalise_ifname(r.get("master")),
                "address": normalise_mac(r.get("address", ""), vteps)
                if r.get("link_type") == "ether"
                else None,
                "vxlan": {k: data[k] for k in sorted(data) if k != "ttl"}
                if info.get("info_kind") == "vxlan"
                else None,
            }
        )
    return sorted(out, key=lambda x: (str(x["name"]), str(x["kind"])))


def addresses(node: Node) -> list[tuple[Any, ...]]:
    out = []
    for r in _ipj(node, "addr", "show"):
        for a in r.get("addr_info") or []:
            if a.get("scope") == "link" and a.get("family") == "inet6":
                continue  # fe80::/64 from the random MAC
            out.append(
                (normalise_ifname(r["ifname"]), a["family"], a["local"], a["prefixlen"])
            )
    return sorted(out)


def routes(node: Node) -> list[tuple[Any, ...]]:
    out = []
    for family in ("-4", "-6"):
        for r in _ipj(node, family, "route", "show", "table", "all"):
            if str(r.get("dst", "")).startswith(("fe80", "ff00")):
                continue
            if r.get("type") == "local" and ":" in str(r.get("dst", "")):
                continue
            out.append(
                (
                    r.get("table", "main"),
                    r.get("type", "unicast"),
                    r.get("dst"),
                    r.get("gateway"),
                    normalise_ifname(r.get("dev")),
                    r.get("scope"),
                    tuple(sorted(r.get("flags") or [])),
                )
            )
    return sorted(out, key=repr)


def neighbours(node: Node, vteps: dict[str, str]) -> list[tuple[Any, ...]]:
    rows = _ipj(node, "neigh", "show", "nud", "permanent")
    return sorted(
        (
            r.get("dst"),
            normalise_ifname(r.get("dev")),
            normalise_mac(r.get("lladdr", ""), vteps),
            tuple(r.get("state") or []),
        )
        for r in rows
    )


def fdb(node: Node, vteps: dict[str, str]) -> list[tuple[Any, ...]]:
    out = node.exec(["bridge", "-j", "fdb", "show"], check=False).stdout
    rows = json.loads(out) if out.strip() else []
    return sorted(
        (
            normalise_mac(r.get("mac", ""), vteps),
            normalise_ifname(r.get("ifname")),
            r.get("dst"),
            tuple(sorted(r.get("flags") or [])),
            r.get("state", ""),
            normalise_ifname(r.get("master")),
        )
        for r in rows
        if r.get("ifname") == "flannel.1" or r.get("state") == "permanent"
    )


def iptables(node: Node) -> dict[str, list[str]]:
    """``*-save`` of both backends and both families, counters removed."""
    out = {}
    for tool in (
        "iptables-nft-save",
        "iptables-legacy-save",
        "ip6tables-nft-save",
        "ip6tables-legacy-save",
    ):
        res = node.exec([tool], check=False)
        out[tool] = [
            _COUNTERS.sub("", line)
            for line in res.stdout.splitlines()
            if line and not line.startswith("#")
        ]
    return out


def nft_tables(node: Node) -> list[dict[str, Any]]:
    """nft tables other than iptables-nft's own, with chains and rules, no handles."""
    out = node.exec(["nft", "-j", "list", "ruleset"], check=False).stdout
    items = json.loads(out).get("nftables", []) if out.strip() else []
    xt = {("ip", "filter"), ("ip", "nat"), ("ip", "mangle"), ("ip", "raw")}
    xt |= {("ip6", t) for _, t in xt}
    kept = []
    for item in items:
        (kind, body), *_ = item.items()
        if (
            kind == "metainfo"
            or (body.get("family"), body.get("table", body.get("name"))) in xt
        ):
            continue
        kept.append({kind: {k: v for k, v in body.items() if k != "handle"}})
    return kept


def files(node: Node, paths: Iterable[str] = FILES) -> dict[str, str]:
    """Path -> type and mode of everything under ``paths``; IPAM and scratch files by
    name only (their content names random container IDs)."""
    listing = node.exec(["find", *paths, "-printf", "%p %y %m\\n"], check=False).stdout
    out = {}
    for line in listing.splitlines():
        path, kind, mode = line.rsplit(" ", 2)
        if re.search(r"/var/lib/cni/(flannel|results|cache/results)/", path):
            path = re.sub(r"[0-9a-f]{64}", "<id>", path)
        out[path] = f"{kind} {mode}"
    return out


SYSCTLS = (
    "net/ipv4/ip_forward",
    "net/ipv6/conf/flannel.1/accept_ra",
    "net/bridge/bridge-nf-call-iptables",
)


def sysctls(node: Node) -> dict[str, str]:
    """The kernel settings Flannel and its delegate touch (absent: ``-``)."""
    script = (
        'for k in "$@"; do '
        'printf "%s=%s\\n" "$k" "$(cat /proc/sys/$k 2>/dev/null || echo -)"; done'
    )
    out = node.exec(["sh", "-c", script, "sh", *SYSCTLS], check=False).stdout
    return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)


def subnet_env(node: Node) -> str:
    return node.exec(["cat", "/run/flannel/subnet.env"], check=False).stdout


def node_object(obj: dict[str, Any], vteps: dict[str, str]) -> dict[str, Any]:
    """The Node's Flannel annotations (VtepMAC normalised) and its network condition."""
    ann = {}
    for key, value in (obj["metadata"].get("annotations") or {}).items():
        if key.startswith(ANNOTATION_PREFIX):
            if key.endswith("backend-data") and value not in ("", "null"):
                data = json.loads(value)
                if "VtepMAC" in data:
                    data["VtepMAC"] = normalise_mac(data["VtepMAC"], vteps)
                value = json.dumps(data, sort_keys=True)
            ann[key] = value
    conditions = [
        {k: c.get(k) for k in ("type", "status", "reason", "message")}
        for c in (obj.get("status") or {}).get("conditions") or []
        if c["type"] == "NetworkUnavailable"
    ]
    return {"annotations": ann, "conditions": conditions}


def vtep_names(nodes: list[dict[str, Any]], order: list[str]) -> dict[str, str]:
    """VtepMAC -> ``vtep:<index of the node in order>`` from the Node objects."""
    out = {}
    for obj in nodes:
        raw = (obj["metadata"].get("annotations") or {}).get(
            ANNOTATION_PREFIX + "backend-data", ""
        )
        try:
            mac = json.loads(raw).get("VtepMAC", "") if raw else ""
        except (ValueError, AttributeError):
            continue
        if mac and obj["metadata"]["name"] in order:
            out[mac.lower()] = f"vtep:{order.index(obj['metadata']['name'])}"
    return out


def snapshot(node: Node, vteps: dict[str, str]) -> Snapshot:
    """Everything compared, for one node."""
    return {
        "links": links(node, vteps),
        "addresses": addresses(node),
        "routes": routes(node),
        "neighbours": neighbours(node, vteps),
        "fdb": fdb(node, vteps),
        "iptables": iptables(node),
        "nft": nft_tables(node),
        "subnet.env": subnet_env(node),
        "sysctls": sysctls(node),
        "files": files(node),
    }


def differences(a: Any, b: Any, path: str = "") -> list[str]:
    """Human-readable differences between two snapshots (``path: a != b``)."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for key in sorted(set(a) | set(b), key=str):
            out += differences(
                a.get(key), b.get(key), f"{path}.{key}" if path else str(key)
            )
        return out
    if isinstance(a, list) and isinstance(b, list) and a != b:
        only_a = [x for x in a if x not in b]
        only_b = [x for x in b if x not in a]
        if not only_a and not only_b:
            return [f"{path}: same items, other order: {a!r} != {b!r}"]
        return [f"{path}: only real {only_a!r}; only emulated {only_b!r}"]
    return [] if a == b else [f"{path}: real {a!r} != emulated {b!r}"]
