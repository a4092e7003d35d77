"""iptables (both backends, both families) and native nftables as named objects.

A chain is named with its table and backend, its fingerprint is its policy; a rule is
named by its ``iptables-save`` line with the implicit ``-m tcp``/``-m udp`` that
iptables adds after ``-p tcp`` dropped, as an operator writes it (repeated identical
rules get ``#2``, ``#3``). Native nft tables, chains, sets and rules are read from
``nft list ruleset``, without counters, skipping the tables iptables-nft owns.

>>> sorted(save_objects("*filter\\n:INPUT ACCEPT [3:4]\\n"
...     "-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT\\nCOMMIT\\n", "iptables-nft"))
['chain INPUT (filter, nft)', 'rule "-A INPUT -p tcp --dport 22 -j ACCEPT" (filter, nft)']
>>> sorted(nft_objects("table ip t {\\n\\tchain c {\\n\\t\\ttype filter hook input priority 0;"
...     "\\n\\t\\tcounter packets 1 bytes 2 accept\\n\\t}\\n}\\n"))
['nft chain ip t c', 'nft rule ip t c: accept', 'nft table ip t']
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_IMPLICIT_MATCH = re.compile(r"(-p (tcp|udp|sctp|udplite) )-m \2 ")
_COUNTER = re.compile(r"\s*counter packets \d+ bytes \d+")


def _where(table: str, tool: str) -> str:
    backend = "legacy" if tool.endswith("legacy") else "nft"
    v6 = ", IPv6" if tool.startswith("ip6") else ""
    return f"({table}, {backend}{v6})"


def save_tables(text: str) -> list[str]:
    return [line[1:].strip() for line in text.splitlines() if line.startswith("*")]


def save_objects(text: str, tool: str) -> dict[str, str]:
    out: dict[str, str] = {}
    table = ""
    for line in text.splitlines():
        if line.startswith("*"):
            table = line[1:].strip()
        elif line.startswith(":"):
            chain, policy = [*line[1:].split(), "-"][:2]
            out[f"chain {chain} {_where(table, tool)}"] = policy
        elif line.startswith("-A "):
            shown = _IMPLICIT_MATCH.sub(r"\1", line.strip())
            _unique(out, f'rule "{shown}" {_where(table, tool)}')
    return out


def _unique(out: dict[str, str], name: str) -> None:
    key, n = name, 1
    while key in out:
        n += 1
        key = f"{name} #{n}"
    out[key] = ""


_PROPERTY = (
    "type ",
    "policy ",
    "comment ",
    "devices ",
    "flags ",
    "elements ",
    "timeout ",
)


def nft_objects(text: str, skip: Iterable[tuple[str, str]] = ()) -> dict[str, str]:
    """Tables, chains, sets/maps and rules of ``nft list ruleset`` text."""
    skipped = set(skip)
    out: dict[str, str] = {}
    table = chain = ""
    depth = 0
    for raw in text.splitlines():
        line = _COUNTER.sub("", raw).strip()
        if not line:
            continue
        if line == "}":
            depth -= 1
            chain = "" if depth <= 1 else chain
            continue
        opens = line.endswith("{")
        words = line.rstrip("{").split()
        if depth == 0 and opens and words[0] == "table":
            table = " ".join(words[1:3])
            if tuple(words[1:3]) not in skipped:
                out[f"nft table {table}"] = ""
        elif tuple(table.split()) in skipped:
            pass
        elif depth == 1 and opens:
            chain = words[1] if words[0] == "chain" else ""
            out[f"nft {words[0]} {table} {words[1]}"] = ""
        elif depth == 2 and chain and not line.startswith(_PROPERTY):
            _unique(out, f"nft rule {table} {chain}: {line}")
        elif depth == 2 and chain and line.startswith(("type ", "policy ")):
            key = f"nft chain {table} {chain}"
            out[key] = (out.get(key, "") + " " + line).strip()
        depth += 1 if opens else 0
    return out
