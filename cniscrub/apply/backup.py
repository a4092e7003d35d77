"""Back up one object into the journal *before* it is touched.

Files keep bytes, mode, owner (and a symlink's target); chains and rules keep their
lines and positions; ipsets their type, options and members; policy rules every
selector; nft tables keep ``nft -j`` JSON and ``nft`` text; links keep their
spec with the addresses and routes the plan lists, plus the permanent neighbours and
FDB entries read at apply time (:mod:`cniscrub.apply.link_state`) -- and for a veth,
the pod side (its name, MAC, addresses and routes in the pod's netns) when that netns
is known.

>>> sorted(PAYLOAD_KINDS)
['file', 'ip_rule', 'ipset', 'ipt_chain', 'ipt_rule', 'link', 'nft_table', 'route']
"""

from __future__ import annotations

import json
import os
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from cniscrub.apply import ipset_ops
from cniscrub.apply.link_state import LinkState
from cniscrub.errors import BackupError
from cniscrub.journal.writer import Journal
from cniscrub.node.rootfs import RootFS
from cniscrub.node.runner import Runner
from cniscrub.plan.model import Action

PAYLOAD_KINDS = (
    "file",
    "ip_rule",
    "ipset",
    "ipt_chain",
    "ipt_rule",
    "link",
    "nft_table",
    "route",
)


def _file(fs: RootFS, journal: Journal, a: Action, d: dict[str, Any]) -> dict[str, Any]:
    st = fs.lstat(a.key)
    if st is None:
        return {"gone": True}
    out = {k: d.get(k) for k in ("path", "type", "mode", "uid", "gid")}
    out.update(mode=st.st_mode & 0o7777, uid=st.st_uid, gid=st.st_gid)
    if d["type"] == "symlink":
        out["link_target"] = fs.readlink(a.key)
    elif d["type"] == "file":
        out.update(journal.keep_file(fs, a.key, str(a.id)))
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


def _read_pod_side(netns: str, peer_index: int) -> dict[str, Any]:
    from pyroute2.iproute.linux import IPRoute
    from pyroute2.netlink.exceptions import NetlinkError

    from cniscrub.node.netns_enter import entered

    # the socket binds to the namespace the thread is in when it is created
    with entered(netns), IPRoute() as ipr:
        try:
            link = ipr.get_links(peer_index)[0]
        except (NetlinkError, IndexError):
            return {"netns": netns, "error": f"no link {peer_index} in {netns}"}
        addrs = [
            f"{a.get_attr('IFA_ADDRESS')}/{a['prefixlen']}"
            for a in ipr.get_addr(index=peer_index)
            if a["scope"] != 253  # link scope: derived from the MAC
        ]
        routes = []
        for r in ipr.route("dump"):
            table = r.get_attr("RTA_TABLE") or r["table"]
            if r.get_attr("RTA_OIF") != peer_index or r["proto"] == 2 or table == 255:
                continue
            dst = r.get_attr("RTA_DST")
            routes.append(
                {
                    "family": 6 if r["family"] == 10 else 4,
                    "dst": f"{dst}/{r['dst_len']}" if dst else "default",
                    "gateway": r.get_attr("RTA_GATEWAY"),
                }
            )
    return {
        "netns": netns,
        "ifname": link.get_attr("IFLA_IFNAME"),
        "mac": link.get_attr("IFLA_ADDRESS"),
        "mtu": link.get_attr("IFLA_MTU"),
        "up": bool(link["flags"] & 1),
        "addresses": addrs,
        "routes": routes,
    }


_pod_reader: ThreadPoolExecutor | None = None


def _pod_side(netns: str, peer_index: int) -> dict[str, Any]:
    """The pod end of a veth: name, MAC, MTU, addresses and routes, read through
    pyroute2 from a worker thread that enters the pod netns for each read (``setns``
    is per-thread: nothing is forked, the calling thread never leaves its namespace;
    one worker for every pod, so its event loop is made once)."""
    global _pod_reader
    if _pod_reader is None:
        _pod_reader = ThreadPoolExecutor(1, thread_name_prefix="cniscrub-pod-side")
    try:
        return _pod_reader.submit(_read_pod_side, netns, peer_index).result()
    except (OSError, ValueError):
        _pod_reader.shutdown(wait=False)  # its namespace may not have been restored
        _pod_reader = None
        raise
    except Exception as exc:  # a netlink error reading an existing netns
        raise OSError(f"cannot read the pod side in {netns}: {exc}") from exc


def backup(
    fs: RootFS,
    runner: Runner,
    journal: Journal,
    a: Action,
    links: LinkState,
) -> dict[str, Any]:
    """Payload to undo ``a``; raises :class:`BackupError` if it cannot be made.
    ``links``: the neighbours/FDB entries that go with the links."""
    res = a.data["resource"]
    d = dict(res["data"])
    try:
        if a.kind == "file":
            return _file(fs, journal, a, d)
        if a.kind == "nft_table":
            return _nft(runner, a)
        if a.kind == "ipset" and (why := ipset_ops.restorable(d)):
            raise BackupError(f"{why}: it could not be restored")
        payload: dict[str, Any] = {"resource": d, "covers": a.data.get("covers", [])}
        if a.kind == "link":
            payload["covers"] = [*payload["covers"], *links.covers(d["index"])]
            if d["kind"] == "bridge":
                payload["port_macs"] = list(a.data.get("port_macs", []))
        if a.kind == "link" and d["kind"] == "veth":
            pod = a.data.get("pod") or {}
            if pod.get("netns") and os.path.exists(pod["netns"]):
                payload["pod"] = _pod_side(pod["netns"], d["peer"])
        return payload
    except (OSError, ValueError) as exc:
        raise BackupError(f"cannot back up {a.target}: {exc}") from exc
