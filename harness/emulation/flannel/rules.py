"""flanneld's netfilter rules, rendered exactly (test emulation, pure).

iptables mode: flannel-footprint.md §2.4; nftables mode (``EnableNFTables``): §2.5.

>>> [r.save_line() for r in forward_rules("10.244.0.0/16")][0]
'-A FORWARD -m comment --comment "flanneld forward" -j FLANNEL-FWD'
>>> nft_listed_rules(4, "10.244.0.0/16", "10.244.1.0/24")["postrtg"][0]
'meta mark 0x00004000 return'
"""

from __future__ import annotations

from dataclasses import dataclass

MASQ_COMMENT = "flanneld masq"  # §2.4
FWD_COMMENT = "flanneld forward"  # §2.4
KUBE_PROXY_MARK = "0x4000/0x4000"  # §2.4 trafficmngr.KubeProxyMark
POSTRTG_CHAIN = "FLANNEL-POSTRTG"  # nat, §2.4
FWD_CHAIN = "FLANNEL-FWD"  # filter, §2.4
MULTICAST = {4: "224.0.0.0/4", 6: "ff00::/8"}  # §2.4 (v6: ff00::/8)

NFT_TABLES = {4: ("ip", "flannel-ipv4"), 6: ("ip6", "flannel-ipv6")}  # §2.5
NFT_POSTRTG_COMMENT = "chain to manage traffic masquerading by flannel"  # §2.5
NFT_FORWARD_COMMENT = "chain to accept flannel traffic"  # §2.5


@dataclass(frozen=True)
class Rule:
    """One iptables rule: ``-A <chain> <spec>`` in ``table``."""

    table: str
    chain: str
    spec: tuple[str, ...]

    def line(self, action: str = "-A") -> str:
        """The rule as iptables-save / iptables-restore writes it."""
        words = [f'"{w}"' if " " in w else w for w in self.spec]
        return " ".join([action, self.chain, *words])

    def save_line(self) -> str:
        """The ``-A`` form, exactly as ``iptables-save`` prints it."""
        return self.line("-A")


def _c(comment: str) -> tuple[str, ...]:
    return ("-m", "comment", "--comment", comment)


def masq_rules(
    network: str, pod_cidr: str, *, family: int = 4, random_fully: bool = True
) -> list[Rule]:
    """nat ``FLANNEL-POSTRTG`` and its POSTROUTING jump (§2.4, ``--ip-masq``)."""
    m = _c(MASQ_COMMENT)
    rnd = ("--random-fully",) if random_fully else ()
    mcast = MULTICAST[family]
    chain = POSTRTG_CHAIN

    def r(*spec: str) -> Rule:
        return Rule("nat", chain, spec)

    return [
        Rule("nat", "POSTROUTING", (*m, "-j", chain)),
        r("-m", "mark", "--mark", KUBE_PROXY_MARK, *m, "-j", "RETURN"),
        r("-s", pod_cidr, "-d", network, *m, "-j", "RETURN"),
        r("-s", network, "-d", pod_cidr, *m, "-j", "RETURN"),
        r("!", "-s", network, "-d", pod_cidr, *m, "-j", "RETURN"),
        r("-s", network, "!", "-d", mcast, *m, "-j", "MASQUERADE", *rnd),
        r("!", "-s", network, "-d", network, *m, "-j", "MASQUERADE", *rnd),
    ]


def forward_rules(network: str) -> list[Rule]:
    """filter ``FLANNEL-FWD`` and its FORWARD jump (§2.4, forward rules on)."""
    m = _c(FWD_COMMENT)
    return [
        Rule("filter", "FORWARD", (*m, "-j", FWD_CHAIN)),
        Rule("filter", FWD_CHAIN, ("-s", network, *m, "-j", "ACCEPT")),
        Rule("filter", FWD_CHAIN, ("-d", network, *m, "-j", "ACCEPT")),
    ]


def own_chain(table: str) -> str:
    """The flannel chain of an iptables table."""
    return POSTRTG_CHAIN if table == "nat" else FWD_CHAIN


def restore_payload(rules: list[Rule], *, delete: list[Rule] | None = None) -> str:
    """``iptables-restore --noflush`` input: declare (create or flush) the flannel
    chain, delete the given builtin-chain jumps, then append every rule."""
    out: list[str] = []
    for table in dict.fromkeys(r.table for r in rules):
        out.append(f"*{table}")
        out.append(f":{own_chain(table)} - [0:0]")
        out.append(f"-F {own_chain(table)}")  # explicit, whatever the backend
        out += [d.line("-D") for d in delete or [] if d.table == table]
        out += [r.line("-A") for r in rules if r.table == table]
        out.append("COMMIT")
    return "\n".join(out) + "\n"


def _nft_masq(family: int, network: str, pod_cidr: str) -> list[str]:
    ip = "ip" if family == 4 else "ip6"
    mcast = MULTICAST[family]
    return [
        f"{ip} saddr {pod_cidr} {ip} daddr {network} return",
        f"{ip} saddr {network} {ip} daddr {pod_cidr} return",
        # §2.5: differs from the iptables rule (! -s <Network> -d <podCIDR>)
        f"{ip} saddr != {pod_cidr} {ip} daddr {network} return",
        f"{ip} saddr {network} {ip} daddr != {mcast} masquerade fully-random",
        f"{ip} saddr != {network} {ip} daddr {network} masquerade fully-random",
    ]


def nft_listed_rules(
    family: int, network: str, pod_cidr: str, *, ip_masq: bool = True
) -> dict[str, list[str]]:
    """Chain -> rules as ``nft list table`` prints them (§2.5 goldens)."""
    ip = "ip" if family == 4 else "ip6"
    out: dict[str, list[str]] = {}
    if ip_masq:
        out["postrtg"] = [
            "meta mark 0x00004000 return",
            *_nft_masq(family, network, pod_cidr),
        ]
    out["forward"] = [f"{ip} saddr {network} accept", f"{ip} daddr {network} accept"]
    return out


def nft_init_script() -> str:
    """Init: both tables, even when IPv6 is disabled (§2.5)."""
    return "".join(
        f'add table {fam} {name} {{ comment "rules for {name}" ; }}\n'
        for fam, name in NFT_TABLES.values()
    )


def nft_script(
    family: int, network: str, pod_cidr: str, *, ip_masq: bool = True
) -> str:
    """``nft -f -`` input: chains created, flushed and rewritten (§2.5)."""
    fam, table = NFT_TABLES[family]
    lines = [f'add table {fam} {table} {{ comment "rules for {table}" ; }}']
    chains = {
        "postrtg": ("type nat hook postrouting priority srcnat", NFT_POSTRTG_COMMENT),
        "forward": ("type filter hook forward priority filter", NFT_FORWARD_COMMENT),
    }
    rules = nft_listed_rules(family, network, pod_cidr, ip_masq=ip_masq)
    if ip_masq:  # input form of the listed 'meta mark 0x00004000'
        rules["postrtg"][0] = "meta mark 0x4000 return"
    for chain, chain_rules in rules.items():
        hook, comment = chains[chain]
        lines.append(
            f'add chain {fam} {table} {chain} {{ {hook} ; comment "{comment}" ; }}'
        )
        lines.append(f"flush chain {fam} {table} {chain}")
        lines += [f"add rule {fam} {table} {chain} {r}" for r in chain_rules]
    return "\n".join(lines) + "\n"


def nft_delete_script(families: tuple[int, ...] = (4, 6)) -> str:
    """Delete the flannel tables (v0.25-v0.26 shutdown, v0.27+ start; §2.6)."""
    return "".join(
        f"delete table {NFT_TABLES[f][0]} {NFT_TABLES[f][1]}\n" for f in families
    )
