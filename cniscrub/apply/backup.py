"""Back up one object into the journal *before* it is touched.

Files keep bytes, mode, owner (and a symlink's target); chains and rules keep their
lines
and positions; nft tables keep ``nft -j`` JSON and ``nft`` text; links keep their spec
with addresses, routes, neighbours and FDB entries -- and for a veth, the pod side
(its name, MAC, addresses and routes in the pod's netns) when that netns is known.

>>> sorted(PAYLOAD_KINDS)
['file', 'ipt_chain', 'ipt_rule', 'link', 'nft_table', 'route']
"""

from __future__ import annotations

import json
import os
from typing import Any

from cniscrub.apply.journal import Journal
from cniscrub.errors import BackupError
from cniscrub.inventory.iptables import Runner
from cniscrub.node.rootfs import RootFS
from cniscrub.plan.model import Action

PAYLOAD_KINDS = ("file", "ipt_chain", "ipt_rule", "link", "nft_table", "route")


def _file(fs: RootFS, journal: Journal, a: Action, d: dict[str, Any]) -> dict[str, Any]:
    st = fs.lstat(a.key)
    if st is None:
        return {"gone": True}
    out = {k: d.get(k) for k in ("path", "type", "mode", "uid", "gid")}
    out.update(mode=st.st_mode & 0o7777, uid=st.st_uid, gid=st.st_gid)
    if d["type"] == "symlink":
        out["link_target"] = fs.readlink(a.key)
    elif d["type"] == "file":
        out["blob"] = journal.save_blob(str(a.id), fs.read(a.key, limit=1 << 62))
    return out


def _nft(runner: Runner, a: Action) -> dict[str, Any]:
    fam, name = a.key.split(" ", 1)
    as_json = runner.run(["nft", "-j", "list", "table", fam, name])
    as_text = runner.run(["nft", "list", "table", fam, name])
    if not (as_json.ok and as_text.ok):
        raise BackupError(f"cannot back up nft table {a.key}: {as_text.stderr.strip()}")
    return {
        "family": fam,
        "name": name,
        "json": json.loads(as_json.stdout),
        "text": as_text.stdout,
    }


def _pod_side(runner: Runner, netns: str, peer_index: int) -> dict[str, Any]:
    """The pod end of a veth: name, MAC, MTU, addresses, routes (read via nsenter)."""
    ns = ["nsenter", f"--net={netns}", "ip", "-j"]
    links = runner.run([*ns, "-d", "link", "show"])
    addrs = runner.run([*ns, "addr", "show"])
    routes = [
        runner.run([*ns, fam, "route", "show", "table", "all"]) for fam in ("-4", "-6")
    ]
    if not (links.ok and addrs.ok and all(r.ok for r in routes)):
        return {"netns": netns, "error": "could not read the pod side"}
    link = next(
        (x for x in json.loads(links.stdout) if x.get("ifindex") == peer_index), None
    )
    if link is None:
        return {"netns": netns, "error": f"no link {peer_index} in {netns}"}
    name = link["ifname"]
    addr: dict[str, Any] = next(
        (x for x in json.loads(addrs.stdout) if x.get("ifname") == name), {}
    )
    out_routes = [
        r
        for res in routes
        for r in json.loads(res.stdout or "[]")
        if r.get("dev") == name
        and r.get("protocol") != "kernel"
        and r.get("table") not in ("local",)
    ]
    return {
        "netns": netns,
        "ifname": name,
        "mac": link.get("address"),
        "mtu": link.get("mtu"),
        "up": "UP" in link.get("flags", []),
        "addresses": [
            f"{i['local']}/{i['prefixlen']}"
            for i in addr.get("addr_info", [])
            if i.get("scope") != "link"
        ],
        "routes": out_routes,
    }


def _port_macs(index: int) -> list[str]:
    from pyroute2 import IPRoute

    with IPRoute() as ipr:
        return [
            str(link.get_attr("IFLA_ADDRESS"))
            for link in ipr.get_links()
            if link.get_attr("IFLA_MASTER") == index
        ]


def backup(fs: RootFS, runner: Runner, journal: Journal, a: Action) -> dict[str, Any]:
    """Payload to undo ``a``; raises :class:`BackupError` if it cannot be made."""
    res = a.data["resource"]
    d = dict(res["data"])
    try:
        if a.kind == "file":
            return _file(fs, journal, a, d)
        if a.kind == "nft_table":
            return _nft(runner, a)
        payload: dict[str, Any] = {"resource": d, "covers": a.data.get("covers", [])}
        if a.kind == "link" and d["kind"] == "bridge":
            payload["port_macs"] = _port_macs(d["index"])
        if a.kind == "link" and d["kind"] == "veth":
            pod = a.data.get("pod") or {}
            if pod.get("netns") and os.path.exists(pod["netns"]):
                payload["pod"] = _pod_side(runner, pod["netns"], d["peer"])
        return payload
    except (OSError, ValueError) as exc:
        raise BackupError(f"cannot back up {a.target}: {exc}") from exc
