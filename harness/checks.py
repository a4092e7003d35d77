"""Node-state questions shared by scenarios and expectations on any provider, answered
with pytest-testinfra modules on the node's ``Host`` (``node.host``: ``file``,
``interface``, ``iptables``, ``process``; ``run``/``check_output`` for ``ip -j``,
``bridge -j`` and ``nft -j``).

"Absent" is explicit: testinfra's ``iptables.rules`` raises on a chain that does not
exist (fact: harness-anchors.md §2), so :func:`chain_exists` asks first and
:func:`chain_rules` returns None for a missing chain; ``iptables -S`` exits 1 for "no
such chain" in both backends, anything else is an error.

>>> chain_rules(node, "nat", "FLANNEL-POSTRTG")      # doctest: +SKIP
['-N FLANNEL-POSTRTG', '-A FLANNEL-POSTRTG -m mark --mark 0x4000/0x4000 ...']
>>> chain_exists(node, "filter", "FLANNEL-FWD", backend="legacy")   # doctest: +SKIP
False
"""

from __future__ import annotations

import json
from typing import Any

from harness.providers.base import Node

BACKENDS = {None: "iptables", "nft": "iptables-nft", "legacy": "iptables-legacy"}


def _tool(family: int, backend: str | None) -> str:
    tool = BACKENDS[backend]
    return tool.replace("iptables", "ip6tables") if family == 6 else tool


def chain_exists(
    node: Node, table: str, chain: str, family: int = 4, backend: str | None = None
) -> bool:
    """Whether ``chain`` exists in ``table`` (``backend``: nft, legacy, or the node's
    default ``iptables``)."""
    res = node.host.run_test(
        "%s -w 5 -t %s -S %s", _tool(family, backend), table, chain
    )
    return res.rc == 0


def chain_rules(
    node: Node, table: str, chain: str, family: int = 4
) -> list[str] | None:
    """``iptables -S CHAIN`` lines (testinfra ``iptables.rules``), or None when the
    chain does not exist."""
    if not chain_exists(node, table, chain, family):
        return None
    rules: list[str] = node.host.iptables.rules(table, chain, version=family)
    return rules


def rules_mentioning(node: Node, table: str, needle: str, family: int = 4) -> list[str]:
    """Every rule of ``table`` (all chains) whose text contains ``needle``."""
    rules: list[str] = node.host.iptables.rules(table, version=family)
    return [line for line in rules if needle in line and line.startswith("-A")]


def _json(node: Node, command: str, *args: str) -> Any:
    out = node.host.check_output(command, *args)
    return json.loads(out) if out.strip() else []


def link(node: Node, name: str) -> dict[str, Any] | None:
    """The link's ``ip -d -j link show`` record, or None when it does not exist."""
    if not node.host.interface(name).exists:
        return None
    rows = _json(node, "ip -d -j link show %s", name)
    return rows[0] if rows else None


def addresses(node: Node, name: str) -> list[str]:
    """The link's addresses (testinfra ``interface.addresses``); [] when absent."""
    iface = node.host.interface(name)
    return list(iface.addresses) if iface.exists else []


def nft_tables(node: Node) -> list[str]:
    data = _json(node, "nft -j list tables")
    return [
        f"{t['table']['family']} {t['table']['name']}"
        for t in (data or {}).get("nftables", [])
        if "table" in t
    ]


def neighbours(node: Node, dev: str) -> list[str]:
    return str(node.host.check_output("ip neigh show dev %s", dev)).splitlines()


def fdb(node: Node, dev: str) -> list[str]:
    return str(node.host.check_output("bridge fdb show dev %s", dev)).splitlines()


def routes(node: Node, dev: str) -> list[str]:
    out = str(node.host.check_output("ip route show dev %s", dev))
    return [line.strip() for line in out.splitlines()]


def routes_json(node: Node, *selector: str) -> list[dict[str, Any]]:
    """``ip -j route show SELECTOR`` (e.g. ``proto``, ``17``, ``table``, ``all``)."""
    rows: list[dict[str, Any]] = _json(
        node, "ip -j route show" + " %s" * len(selector), *selector
    )
    return rows


def ip_rules(node: Node) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = _json(node, "ip -j rule show")
    return rows


def exists(node: Node, path: str) -> bool:
    return bool(node.host.file(path).exists)


def processes(node: Node) -> list[str]:
    """The command names of the node's processes (testinfra ``process``)."""
    return [str(p.comm) for p in node.host.process.filter()]


def running(node: Node, name: str) -> bool:
    return bool(node.host.process.filter(comm=name))


def pod_netns(node: Node, ip: str) -> str:
    """The network namespace (under the node's /run/netns) holding a pod address."""
    for line in str(node.host.check_output("ip netns list")).splitlines():
        name = line.split()[0]
        if f" {ip}/" in node.host.check_output("ip -n %s -o -4 addr", name):
            return name
    raise LookupError(f"no pod network namespace on {node.name} holds {ip}")


def ping_from_pod(node: Node, src_ip: str, dst_ip: str, count: int = 1) -> None:
    """Real ICMP from the pod that owns ``src_ip`` (on ``node``) to ``dst_ip``."""
    netns = pod_netns(node, src_ip)
    argv = ["ip", "netns", "exec", netns, "ping", "-c", str(count), "-W", "2", dst_ip]
    node.exec(argv, timeout=10 + 2 * count)
