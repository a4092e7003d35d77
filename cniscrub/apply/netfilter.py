"""Remove proven iptables objects -- ONE ``iptables-restore --noflush -w`` transaction
per table and backend containing only ``-D``/``-F``/``-X`` lines (never a full-table
rewrite) -- and native nft tables in one ``nft -f`` transaction.

>>> jump = "-A POSTROUTING -j EXAMPLE-POSTRTG"
>>> print(transaction("nat", [jump], ["EXAMPLE-POSTRTG"]))
*nat
-D POSTROUTING -j EXAMPLE-POSTRTG
-F EXAMPLE-POSTRTG
-X EXAMPLE-POSTRTG
COMMIT
<BLANKLINE>
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from cniscrub.inventory.iptables import tool
from cniscrub.node.runner import Runner
from cniscrub.plan.model import Action

XTABLES_WAIT = "10"  # seconds to wait for the xtables lock


def transaction(table: str, rule_lines: Sequence[str], chains: Sequence[str]) -> str:
    """``-A CHAIN spec`` lines to delete, chains to flush and delete -> restore text."""
    lines = [f"*{table}"]
    lines += ["-D " + line[3:] for line in rule_lines]
    lines += [f"-F {c}" for c in chains] + [f"-X {c}" for c in chains]
    return "\n".join([*lines, "COMMIT", ""])


def group_by_table(
    actions: Sequence[Action],
) -> dict[tuple[str, int, str], list[Action]]:
    groups: dict[tuple[str, int, str], list[Action]] = defaultdict(list)
    for a in actions:
        d = a.data["resource"]["data"]
        groups[(d["backend"], d["family"], d["table"])].append(a)
    return groups


def apply_table(
    runner: Runner, key: tuple[str, int, str], actions: list[Action]
) -> str | None:
    """Run one transaction; return an error message or None."""
    backend, family, table = key
    restore = tool(runner, backend, family, "restore")
    if restore is None:
        return f"no {'ip6' if family == 6 else 'ip'}tables-{backend}-restore binary"
    rules = [
        f"-A {d['chain']} {d['spec']}"
        for d in (a.data["resource"]["data"] for a in actions if a.kind == "ipt_rule")
    ]
    chains = [
        a.data["resource"]["data"]["chain"] for a in actions if a.kind == "ipt_chain"
    ]
    text = transaction(table, rules, chains)
    res = runner.run([restore, "--noflush", "-w", XTABLES_WAIT], stdin=text.encode())
    if res.ok:
        return None
    return f"{restore} failed (exit {res.rc}): {res.stderr.strip()[:300]}"


def delete_nft_tables(runner: Runner, actions: list[Action]) -> str | None:
    text = "".join(f"delete table {a.key}\n" for a in actions)
    res = runner.run(["nft", "-f", "-"], stdin=text.encode())
    return None if res.ok else f"nft failed (exit {res.rc}): {res.stderr.strip()[:300]}"
