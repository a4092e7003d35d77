"""Targeted verification after ``apply``: is any object the plan acted on still there?

Instead of a second full inventory, each acted-on object is looked up directly: for the
nft backend, each touched chain (nf_tables netlink says whether it exists,
``iptables-nft -S CHAIN`` lists its rules -- never the whole 10k-rule table); for legacy
(or when that fails) one ``*-save -t TABLE`` per touched table; nft table names, one
route, rule, ipset and link dump over netlink; an ``lstat`` per file. An object counts as
remaining when it is still present (a chain by name, a rule by chain + exact spec, a
link or file by name, a route by its key); when a table cannot be read its objects count
as remaining (never reported clean without proof). ``cniscrub verify`` stays the full
check (it also finds residue the plan did not know about).

>>> from cniscrub.plan.model import Action
>>> a = Action(1, "files", "file", "/run/example/subnet.env", "file x", "r", (), "b")
>>> {k: [x.id for x in v] for k, v in group_kinds([a]).items()}
{'file': [1]}
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from cniscrub.apply import ipset_ops, rule_ops
from cniscrub.inventory import iptables, nftables, routes
from cniscrub.node import netlink
from cniscrub.node.rootfs import RootFS
from cniscrub.node.runner import Runner
from cniscrub.plan.model import Action


def group_kinds(actions: Sequence[Action]) -> dict[str, list[Action]]:
    out: dict[str, list[Action]] = {}
    for a in actions:
        out.setdefault(a.kind, []).append(a)
    return out


def _saved_lines(
    runner: Runner, backend: str, family: int, table: str
) -> set[str] | None:
    """Lines of ``*-save -t TABLE`` (None if it cannot be read)."""
    save = iptables.tool(runner, backend, family, "save")
    res = runner.run([save, "-t", table]) if save else None
    return set(res.stdout.splitlines()) if res is not None and res.ok else None


def _nft_chain_lines(
    runner: Runner, family: int, table: str, chain: str
) -> set[str] | None:
    """``iptables-nft -S CHAIN`` lines (nft fetches just that chain: cheap even next
    to 10k rules); empty when ``nft list chain`` says the chain (or its table) is gone;
    None if unknown."""
    fam = "ip6" if family == 6 else "ip"
    probe = runner.run(["nft", "-j", "list", "chain", fam, table, chain])
    if not probe.ok:
        if "No such file or directory" in (probe.stderr or ""):
            return set()  # ENOENT: no such table or chain
        return None
    save = iptables.tool(runner, "nft", family, "save")
    if not save or not save.endswith("-save"):
        return None
    cmd = save[: -len("-save")]
    res = runner.run([cmd, "-w", "10", "-t", table, "-S", chain])
    return set(res.stdout.splitlines()) if res.ok else None


def _ipt_left(runner: Runner, actions: list[Action]) -> list[Action]:
    by_table: dict[tuple[str, int, str], list[Action]] = {}
    for a in actions:
        d = a.data["resource"]["data"]
        by_table.setdefault((d["backend"], d["family"], d["table"]), []).append(a)
    left: list[Action] = []
    for (backend, family, table), group in by_table.items():
        lines: dict[str, set[str] | None] = {}
        if backend == "nft":  # per chain: never re-read a whole big table
            for a in group:
                chain = a.data["resource"]["data"]["chain"]
                if chain not in lines:
                    lines[chain] = _nft_chain_lines(runner, family, table, chain)
        if backend != "nft" or any(v is None for v in lines.values()):
            whole = _saved_lines(runner, backend, family, table)
            lines = {a.data["resource"]["data"]["chain"]: whole for a in group}
        for a in group:
            d = a.data["resource"]["data"]
            have = lines[d["chain"]]
            if have is None:  # cannot prove it is gone
                left.append(a)
            elif a.kind == "ipt_chain":
                heads = (f"-N {d['chain']}", f":{d['chain']} ", f"-P {d['chain']} ")
                if any(ln == heads[0] or ln.startswith(heads[1:]) for ln in have):
                    left.append(a)
            elif f"-A {d['chain']} {d['spec']}".rstrip() in have:
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


def _rule_left(actions: list[Action]) -> list[Action]:
    present = rule_ops.present_keys()
    return [a for a in actions if a.key in present]


def _ipset_left(actions: list[Action]) -> list[Action]:
    present = ipset_ops.names()
    if present is None:  # cannot read them: not proven gone
        return list(actions)
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
    if kinds.get("ipset"):
        left += _ipset_left(kinds["ipset"])
    if kinds.get("route"):
        left += _route_left(kinds["route"])
    if kinds.get("ip_rule"):
        left += _rule_left(kinds["ip_rule"])
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
