"""Targeted verification after ``apply``: is any object the plan acted on still there?

Instead of a second full inventory, each acted-on object is looked up directly: one
``*-save -t TABLE`` per touched table and backend, one nft table listing (netlink), one
route dump, one link dump, an ``lstat`` per file. An object counts as remaining when it
is still present (a chain by name, a rule by chain + exact spec, a link or file by name,
a route by its key); when a table cannot be read its objects count as remaining (never
reported clean without proof). ``cniscrub verify`` stays the full check (it also finds
residue the plan did not know about).

>>> from cniscrub.plan.model import Action
>>> a = Action(1, "files", "file", "/run/flannel/subnet.env", "file x", "r", (), "b")
>>> {k: [x.id for x in v] for k, v in group_kinds([a]).items()}
{'file': [1]}
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from cniscrub.inventory import iptables, nftables, routes
from cniscrub.inventory.iptables import Runner
from cniscrub.node import netlink
from cniscrub.node.rootfs import RootFS
from cniscrub.plan.model import Action


def group_kinds(actions: Sequence[Action]) -> dict[str, list[Action]]:
    out: dict[str, list[Action]] = {}
    for a in actions:
        out.setdefault(a.kind, []).append(a)
    return out


def _ipt_left(runner: Runner, actions: list[Action]) -> list[Action]:
    by_table: dict[tuple[str, int, str], list[Action]] = {}
    for a in actions:
        d = a.data["resource"]["data"]
        by_table.setdefault((d["backend"], d["family"], d["table"]), []).append(a)
    left: list[Action] = []
    for (backend, family, table), group in by_table.items():
        save = iptables.tool(runner, backend, family, "save")
        res = runner.run([save, "-t", table]) if save else None
        if res is None or not res.ok:
            left += group  # cannot prove it is gone
            continue
        lines = set(res.stdout.splitlines())  # exact lines: no full parse needed
        chains = {ln[1:].split(" ", 1)[0] for ln in lines if ln.startswith(":")}
        for a in group:
            d = a.data["resource"]["data"]
            if a.kind == "ipt_chain":
                if d["chain"] in chains:
                    left.append(a)
            elif f"-A {d['chain']} {d['spec']}".rstrip() in lines:
                left.append(a)
    return left


def _nft_left(runner: Runner, actions: list[Action]) -> list[Action]:
    names = nftables.table_names(runner)
    if names is None:
        return list(actions)
    present = {f"{fam} {name}" for fam, name in names}
    return [a for a in actions if a.key in present]


def _route_left(actions: list[Action]) -> list[Action]:
    present = {r.key for r in routes.parse(netlink.dump("routes"))}
    return [a for a in actions if a.key in present]


def _link_left(actions: list[Action]) -> list[Action]:
    present = {m["attrs"].get("IFLA_IFNAME") for m in netlink.dump("links")}
    return [a for a in actions if a.key in present]


def _file_left(fs: RootFS, actions: list[Action]) -> list[Action]:
    left = []
    for a in actions:
        try:
            if fs.lstat(a.key) is not None:
                left.append(a)
        except Exception:  # cannot look: not proven gone
            left.append(a)
    return left


def remaining(fs: RootFS, runner: Runner, actions: Sequence[Action]) -> list[Action]:
    """The acted-on objects that are still on the node, in plan order."""
    kinds = group_kinds(actions)
    left: list[Action] = []
    ipt = kinds.get("ipt_rule", []) + kinds.get("ipt_chain", [])
    if ipt:
        left += _ipt_left(runner, ipt)
    if kinds.get("nft_table"):
        left += _nft_left(runner, kinds["nft_table"])
    if kinds.get("route"):
        left += _route_left(kinds["route"])
    if kinds.get("link"):
        left += _link_left(kinds["link"])
    if kinds.get("file"):
        left += _file_left(fs, kinds["file"])
    return sorted(left, key=lambda a: a.id)


def verify_acted(
    fs: RootFS, runner: Runner, actions: Sequence[Action]
) -> dict[str, Any]:
    """The ``verify`` member of the apply document (``scope``: ``acted-on``)."""
    left = remaining(fs, runner, actions)
    return {
        "clean": not left,
        "remaining": len(left),
        "scope": "acted-on",
        "checked": len(actions),
        "left": [a.target for a in left],
    }
