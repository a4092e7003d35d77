"""Independent, normalised snapshots of a sandbox node (kernel state + root dir) used to
compare before/after: taken with iproute2/iptables/nft tools, not with cniscrub itself.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path
from typing import Any

from csb_nodebuilder import Node, dump_json, save

LINK_KEYS = ("ifname", "link_type", "address", "mtu", "master", "group")
VOLATILE_FLAGS = {"LOWER_UP", "NO-CARRIER", "M-DOWN"}


def _links(node: Node) -> list[Any]:
    out = []
    for link in dump_json(node, ["ip", "-d", "-j", "link", "show"]):  # type: ignore[union-attr]
        info = link.get("linkinfo", {})
        data = info.get("info_data", {}) if info.get("info_kind") in ("vxlan",) else {}
        flags = sorted(set(link.get("flags", [])) - VOLATILE_FLAGS)
        out.append(
            {
                **{k: link.get(k) for k in LINK_KEYS},
                "flags": flags,
                "kind": info.get("info_kind"),
                "vxlan": {
                    k: data.get(k) for k in ("id", "local", "port", "learning", "link")
                },
            }
        )
    return sorted(out, key=lambda x: x["ifname"])


def _routes(node: Node) -> list[Any]:
    out = []
    for fam in ("-4", "-6"):
        for r in dump_json(node, ["ip", fam, "-j", "route", "show", "table", "all"]):  # type: ignore[union-attr]
            r.pop("expires", None)
            out.append(r)
    return sorted(out, key=repr)


def _ipt(node: Node) -> dict[str, str]:
    out = {}
    for backend in ("nft", "legacy"):
        for fam in (4, 6):
            text = save(node, backend, fam)
            lines = [
                re.sub(r"\[\d+:\d+\]", "", ln)
                for ln in text.splitlines()
                if not ln.startswith("#")
            ]
            out[f"{backend}{fam}"] = "\n".join(lines)
    return out


def _nft(node: Node) -> list[Any]:
    items = dump_json(node, ["nft", "-j", "list", "ruleset"])
    out = []
    for item in items.get("nftables", []):  # type: ignore[union-attr]
        for obj in item.values():
            if isinstance(obj, dict):
                obj.pop("handle", None)
                if isinstance(obj.get("expr"), list):
                    obj["expr"] = [e for e in obj["expr"] if "counter" not in e]
        out.append(item)

    def key(item: dict[str, Any]) -> tuple[str, ...]:
        kind, obj = next(iter(item.items()))
        chain = obj.get("chain", "") if kind == "rule" else obj.get("name", "")
        return (kind, obj.get("family", ""), obj.get("table", ""), chain)

    # chain/table listing order follows creation order; rule order inside a chain
    # is kept (stable sort)
    return sorted((x for x in out if "metainfo" not in x), key=key)


def _files(root: Path) -> list[Any]:
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        for name in sorted(dirnames + filenames):
            p = Path(dirpath) / name
            st = p.lstat()
            entry: dict[str, Any] = {
                "path": str(p.relative_to(root)),
                "mode": st.st_mode,
                "uid": st.st_uid,
                "gid": st.st_gid,
            }
            if p.is_symlink():
                entry["target"] = os.readlink(p)
            elif p.is_file():
                entry["sha"] = hashlib.sha256(p.read_bytes()).hexdigest()
            out.append(entry)
    return sorted(out, key=lambda e: e["path"])


def snapshot(node: Node, pods: bool = True) -> dict[str, Any]:
    snap = {
        "links": _links(node),
        "addrs": sorted(
            (a["ifname"], i["local"], i["prefixlen"])
            for a in dump_json(node, ["ip", "-j", "addr", "show"])  # type: ignore[union-attr]
            for i in a.get("addr_info", [])
        ),
        "routes": _routes(node),
        "neigh": sorted(
            map(
                repr, dump_json(node, ["ip", "-j", "neigh", "show", "nud", "permanent"])
            )
        ),  # type: ignore[arg-type]
        "fdb": sorted(map(repr, dump_json(node, ["bridge", "-j", "fdb", "show"]))),  # type: ignore[arg-type]
        "iptables": _ipt(node),
        "nft": _nft(node),
        "files": _files(node.root),
    }
    if pods:
        snap["pods"] = {p: pod_state(p) for p in node.pods}
    return snap


def pod_state(pod: str) -> dict[str, Any]:
    import json

    from csb_nodebuilder import run

    def j(argv: list[str]) -> Any:
        out = run(["ip", "-n", pod, "-j", *argv], check=False)
        return json.loads(out) if out.strip() else []

    links = [
        {k: link.get(k) for k in ("ifname", "address", "mtu")} for link in j(["link"])
    ]
    addrs = sorted(
        (a["ifname"], i["local"], i["prefixlen"])
        for a in j(["addr"])
        for i in a.get("addr_info", [])
    )
    return {"links": links, "addrs": addrs, "routes": sorted(map(repr, j(["route"])))}


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """Keys whose values differ (for readable assertion messages)."""
    return {
        k: (before.get(k), after.get(k))
        for k in before
        if before.get(k) != after.get(k)
    }


def flannel_leftovers(node: Node) -> list[str]:
    """Flannel residue seen by the plain tools (independent of cniscrub's matchers)."""
    import ipaddress

    left = []
    for link in dump_json(node, ["ip", "-j", "link", "show"]):  # type: ignore[union-attr]
        if link["ifname"].startswith(("flannel", "cni0", "veth")):
            left.append(f"link {link['ifname']}")
    for key, text in _ipt(node).items():
        left += [
            f"{key}: {ln}"
            for ln in text.splitlines()
            if "FLANNEL" in ln or "flanneld" in ln
        ]
    left += [f"nft {x}" for x in _nft(node) if "flannel" in repr(x)]
    nets = [
        ipaddress.ip_network("10.244.0.0/16"),
        ipaddress.ip_network("fd00:10:244::/56"),
    ]
    for r in _routes(node):
        dst = r.get("dst", "default")
        if dst != "default" and "/" not in dst:
            dst += "/128" if ":" in dst else "/32"
        if dst != "default" and any(
            ipaddress.ip_network(dst, strict=False).version == n.version
            and ipaddress.ip_network(dst, strict=False).subnet_of(n)
            for n in nets  # type: ignore[arg-type]
        ):
            left.append(f"route {r}")
    for f in _files(node.root):
        p = f["path"]
        if "flannel" in p or "cbr0" in p:
            left.append(f"file {p}")
    return left
