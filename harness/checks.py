"""Node-state questions shared by scenarios on any provider (argv through the Node
protocol only). "Absent" is explicit: a missing chain is a non-zero exit, not an error
(testinfra's ``iptables.rules`` raises on it; fact: harness-anchors.md §2).

>>> chain_rules(node, "nat", "FLANNEL-POSTRTG")      # doctest: +SKIP
['-N FLANNEL-POSTRTG', '-A FLANNEL-POSTRTG -m mark --mark 0x4000/0x4000 ...']
"""

from __future__ import annotations

import json
from typing import Any

from harness.providers.base import Node


def chain_rules(
    node: Node, table: str, chain: str, family: int = 4
) -> list[str] | None:
    """``iptables -S CHAIN`` lines, or None when the chain does not exist."""
    tool = "iptables" if family == 4 else "ip6tables"
    res = node.exec([tool, "-w", "5", "-t", table, "-S", chain], check=False)
    return res.stdout.splitlines() if res.ok else None


def rules_mentioning(node: Node, table: str, needle: str, family: int = 4) -> list[str]:
    tool = "iptables-save" if family == 4 else "ip6tables-save"
    out = node.exec([tool, "-t", table]).stdout
    return [
        line for line in out.splitlines() if needle in line and not line.startswith("#")
    ]


def link(node: Node, name: str) -> dict[str, Any] | None:
    res = node.exec(["ip", "-d", "-j", "link", "show", name], check=False)
    return json.loads(res.stdout)[0] if res.ok else None


def nft_tables(node: Node) -> list[str]:
    data = json.loads(node.exec(["nft", "-j", "list", "tables"]).stdout)
    return [
        f"{t['table']['family']} {t['table']['name']}"
        for t in data["nftables"]
        if "table" in t
    ]


def neighbours(node: Node, dev: str) -> list[str]:
    return node.exec(["ip", "neigh", "show", "dev", dev]).stdout.splitlines()


def fdb(node: Node, dev: str) -> list[str]:
    return node.exec(["bridge", "fdb", "show", "dev", dev]).stdout.splitlines()


def routes(node: Node, dev: str) -> list[str]:
    return [
        line.strip()
        for line in node.exec(["ip", "route", "show", "dev", dev]).stdout.splitlines()
    ]


def exists(node: Node, path: str) -> bool:
    return node.exec(["test", "-e", path], check=False).ok


def processes(node: Node) -> list[str]:
    return node.exec(["ps", "-eo", "comm="]).stdout.split()


def pod_netns(node: Node, ip: str) -> str:
    """The network namespace (under the node's /run/netns) holding a pod address."""
    for line in node.exec(["ip", "netns", "list"]).stdout.splitlines():
        name = line.split()[0]
        if f" {ip}/" in node.exec(["ip", "-n", name, "-o", "-4", "addr"]).stdout:
            return name
    raise LookupError(f"no pod network namespace on {node.name} holds {ip}")


def ping_from_pod(node: Node, src_ip: str, dst_ip: str, count: int = 1) -> None:
    """Real ICMP from the pod that owns ``src_ip`` (on ``node``) to ``dst_ip``."""
    netns = pod_netns(node, src_ip)
    argv = ["ip", "netns", "exec", netns, "ping", "-c", str(count), "-W", "2", dst_ip]
    node.exec(argv, timeout=10 + 2 * count)
