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


def _pod_side(netns: str, peer_index: int) -> dict[str, Any]:
    """The pod end of a veth: name, MAC, MTU, addresses and routes, read over one raw
    rtnetlink socket opened inside the pod netns (no pyroute2, nothing run in it)."""
    from cniscrub.node.rtnl import socket_in

    with socket_in(netns) as nl:
        link = nl.link(peer_index)
        if link is None:
            return {"netns": netns, "error": f"no link {peer_index} in {netns}"}
        addrs = [
            f"{a['address']}/{a['prefixlen']}"
            for a in nl.addresses()
            if a["index"] == peer_index and a["scope"] != 253  # link scope: from MAC
        ]
        routes = [
            {
                "family": 6 if r["family"] == 10 else 4,
                "dst": f"{r['dst']}/{r['dst_len']}" if r["dst"] else "default",
                "gateway": r["gateway"],
            }
            for r in nl.routes()
            if r["oif"] == peer_index and r["proto"] != 2 and r["table"] != 255
        ]
    return {
        "netns": netns,
        "ifname": link["ifname"],
        "mac": link["mac"],
        "mtu": link["mtu"],
        "up": bool(link["flags"] & 1),
        "addresses": addrs,
        "routes": routes,
    }


def _port_macs(index: int) -> list[str]:
    from cniscrub.node.rtnl import dump

    return [
        str(m["attrs"].get("IFLA_ADDRESS"))
        for m in dump("links")
        if m["attrs"].get("IFLA_MASTER") == index
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
                payload["pod"] = _pod_side(pod["netns"], d["peer"])
        return payload
    except (OSError, ValueError) as exc:
        raise BackupError(f"cannot back up {a.target}: {exc}") from exc
