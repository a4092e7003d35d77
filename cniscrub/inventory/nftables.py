"""Inventory of native nftables tables via ``nft -j list ruleset``.

Tables that iptables-nft maintains (``ip filter``, ``ip nat`` …) show up here too; they
are inventoried as tables but their rules are read through ``iptables-nft-save``.

>>> raw = '{"nftables": [{"table": {"family": "ip", "name": "flannel-ipv4"}},' \\
...       ' {"chain": {"family": "ip", "table": "flannel-ipv4", "name": "postrtg"}}]}'
>>> parse(raw)[0].data["chains"]
['postrtg']
"""

from __future__ import annotations

import json
from typing import Any

from cniscrub.errors import InventoryError
from cniscrub.inventory.model import Resource
from cniscrub.node.runner import Runner

ARGV = ["nft", "-j", "list", "tables"]
# tables iptables-nft maintains; their rules are read through iptables-nft-save
XT_TABLES = {"filter", "nat", "mangle", "raw", "security"}


# nfgen_family of an nf_tables message -> the family name nft prints
NFPROTO = {1: "inet", 2: "ip", 3: "arp", 5: "netdev", 7: "bridge", 10: "ip6"}


def _netlink_table_names() -> list[tuple[str, str]]:
    from pyroute2.nftables.main import NFTables

    with NFTables(nfgen_family=0) as nft:  # NFPROTO_UNSPEC: every family
        return [
            (
                NFPROTO.get(t["nfgen_family"], str(t["nfgen_family"])),
                str(t.get_attr("NFTA_TABLE_NAME")),
            )
            for t in nft.get_tables()
        ]


def table_names(runner: Runner) -> list[tuple[str, str]] | None:
    """(family, name) of every table: a pyroute2 nf_tables table dump (names only:
    ~2 ms; ``nft list tables`` fills nft's whole rule cache first, ~0.2 s next to 10k
    rules), else ``nft -j list tables``; None if neither works."""
    try:
        return _netlink_table_names()
    except Exception:  # no nf_tables netlink access: ask the nft binary
        pass
    res = runner.run(ARGV)
    if not res.ok:
        return None
    try:
        items = json.loads(res.stdout or "{}").get("nftables", [])
    except (ValueError, AttributeError):
        return None
    return [(i["table"]["family"], i["table"]["name"]) for i in items if "table" in i]


def collect(runner: Runner) -> tuple[str, list[str]]:
    """Table names, then the full JSON of every table iptables-nft does not own
    (listing the whole ruleset would translate every iptables-nft rule: slow)."""
    empty = '{"nftables": []}'
    if not runner.which("nft"):
        return empty, ["nftables not inspected: no nft binary"]
    names = table_names(runner)
    if names is None:
        return empty, ["nftables not inspected: cannot list tables"]
    items: list[Any] = []
    for fam, name in names:
        if fam in ("ip", "ip6") and name in XT_TABLES:
            items.append({"table": {"family": fam, "name": name}})
            continue
        one = runner.run(["nft", "-j", "list", "table", fam, name])
        if one.ok:
            items += json.loads(one.stdout).get("nftables", [])
    return json.dumps({"nftables": items}), []


def _expr_text(expr: Any) -> str:
    return json.dumps(expr, sort_keys=True)


def parse(raw: str) -> list[Resource]:
    """Pure: ``nft -j list ruleset`` output -> one ``nft_table`` resource per table."""
    try:
        items = json.loads(raw or '{"nftables": []}').get("nftables", [])
    except (ValueError, AttributeError) as exc:
        raise InventoryError(f"cannot parse nft -j output: {exc}") from exc
    tables: dict[tuple[str, str], dict[str, Any]] = {}
    for item in items:
        for what in ("table", "chain", "rule", "set", "map"):
            obj = item.get(what)
            if obj is None:
                continue
            key = (obj.get("family"), obj.get("table", obj.get("name")))
            if what == "table":
                tables[key] = {
                    "family": key[0],
                    "name": key[1],
                    "comment": obj.get("comment"),
                    "chains": [],
                    "rules": [],
                    "sets": [],
                }
            elif key in tables and what == "chain":
                tables[key]["chains"].append(obj.get("name"))
            elif key in tables and what == "rule":
                rule = {
                    "chain": obj.get("chain"),
                    "comment": obj.get("comment"),
                    "expr": _expr_text(obj.get("expr")),
                }
                tables[key]["rules"].append(rule)
            elif key in tables:
                tables[key]["sets"].append(obj.get("name"))
    return [Resource("nft_table", f"{f} {n}", d) for (f, n), d in tables.items()]
