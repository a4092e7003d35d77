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
from cniscrub.inventory.iptables import Runner
from cniscrub.inventory.model import Resource

ARGV = ["nft", "-j", "list", "tables"]
# tables iptables-nft maintains; their rules are read through iptables-nft-save
XT_TABLES = {"filter", "nat", "mangle", "raw", "security"}


def table_names(runner: Runner) -> list[tuple[str, str]] | None:
    """(family, name) of every table: over netlink (cheap even with 10k rules), else
    through ``nft -j list tables``; None if neither works."""
    from cniscrub.node.rtnl import nft_tables

    try:
        return nft_tables()
    except Exception:  # no nf_tables netlink support: fall back to the nft binary
        res = runner.run(ARGV)
        if not res.ok:
            return None
        items = json.loads(res.stdout or "{}").get("nftables", [])
        return [
            (i["table"]["family"], i["table"]["name"]) for i in items if "table" in i
        ]


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
