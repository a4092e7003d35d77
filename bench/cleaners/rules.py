"""iptables rules of the generated node: Flannel's exact rules plus foreign ones.

Pure and deterministic. Every rule is written in the canonical form that
``iptables-save`` prints it back in, so the census can match rules exactly as
``(table, line)`` pairs. Flannel rules are the v0.27 ``--ip-masq`` set of
flannel-footprint.md §2.4 for Network 10.244.0.0/16 and podCIDR 10.244.0.0/24.
Foreign rules imitate kube-proxy (iptables mode), Docker and an SSH allow rule.
"""

from __future__ import annotations

import hashlib
import ipaddress
from dataclasses import dataclass, field

NETWORK = "10.244.0.0/16"
POD_CIDR = "10.244.0.0/24"

Rule = tuple[str, str]  # (table, "-A CHAIN ...")
Chain = tuple[str, str]  # (table, chain)

BUILTIN = {
    "filter": ("INPUT", "FORWARD", "OUTPUT"),
    "nat": ("PREROUTING", "INPUT", "OUTPUT", "POSTROUTING"),
}

_MASQ = '-m comment --comment "flanneld masq"'
_FWD = '-m comment --comment "flanneld forward"'

FLANNEL_RULES: tuple[Rule, ...] = (
    ("nat", f"-A POSTROUTING {_MASQ} -j FLANNEL-POSTRTG"),
    ("nat", f"-A FLANNEL-POSTRTG -m mark --mark 0x4000/0x4000 {_MASQ} -j RETURN"),
    ("nat", f"-A FLANNEL-POSTRTG -s {POD_CIDR} -d {NETWORK} {_MASQ} -j RETURN"),
    ("nat", f"-A FLANNEL-POSTRTG -s {NETWORK} -d {POD_CIDR} {_MASQ} -j RETURN"),
    ("nat", f"-A FLANNEL-POSTRTG ! -s {NETWORK} -d {POD_CIDR} {_MASQ} -j RETURN"),
    (
        "nat",
        f"-A FLANNEL-POSTRTG -s {NETWORK} ! -d 224.0.0.0/4 {_MASQ}"
        " -j MASQUERADE --random-fully",
    ),
    (
        "nat",
        f"-A FLANNEL-POSTRTG ! -s {NETWORK} -d {NETWORK} {_MASQ}"
        " -j MASQUERADE --random-fully",
    ),
    ("filter", f"-A FORWARD {_FWD} -j FLANNEL-FWD"),
    ("filter", f"-A FLANNEL-FWD -s {NETWORK} {_FWD} -j ACCEPT"),
    ("filter", f"-A FLANNEL-FWD -d {NETWORK} {_FWD} -j ACCEPT"),
)
FLANNEL_CHAINS: tuple[Chain, ...] = (
    ("nat", "FLANNEL-POSTRTG"),
    ("filter", "FLANNEL-FWD"),
)

_KP = '-m comment --comment "kubernetes'
FIXED_FOREIGN: tuple[Rule, ...] = (
    # kube-proxy (iptables mode)
    ("nat", f'-A PREROUTING {_KP} service portals" -j KUBE-SERVICES'),
    ("nat", f'-A OUTPUT {_KP} service portals" -j KUBE-SERVICES'),
    ("nat", f'-A POSTROUTING {_KP} postrouting rules" -j KUBE-POSTROUTING'),
    ("nat", "-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000"),
    ("nat", "-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN"),
    ("nat", "-A KUBE-POSTROUTING -j MARK --set-xmark 0x4000/0x0"),
    (
        "nat",
        f'-A KUBE-POSTROUTING {_KP} service traffic requiring SNAT"'
        " -j MASQUERADE --random-fully",
    ),
    ("filter", f'-A FORWARD {_KP} forwarding rules" -j KUBE-FORWARD'),
    ("filter", "-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP"),
    (
        "filter",
        f'-A KUBE-FORWARD {_KP} forwarding rules" -m mark --mark 0x4000/0x4000'
        " -j ACCEPT",
    ),
    # Docker
    ("filter", "-A FORWARD -j DOCKER-USER"),
    ("filter", "-A FORWARD -o docker0 -j DOCKER"),
    ("filter", "-A DOCKER-USER -j RETURN"),
    (
        "filter",
        "-A DOCKER -d 172.17.0.2/32 ! -i docker0 -o docker0 -p tcp -m tcp"
        " --dport 80 -j ACCEPT",
    ),
    ("nat", "-A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER"),
    ("nat", "-A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE"),
    ("nat", "-A DOCKER -i docker0 -j RETURN"),
    # the operator's SSH allow rule
    ("filter", "-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT"),
)
FIXED_FOREIGN_CHAINS: tuple[Chain, ...] = (
    ("nat", "KUBE-SERVICES"),
    ("nat", "KUBE-MARK-MASQ"),
    ("nat", "KUBE-POSTROUTING"),
    ("nat", "DOCKER"),
    ("filter", "KUBE-FORWARD"),
    ("filter", "DOCKER"),
    ("filter", "DOCKER-USER"),
)
RULES_PER_SERVICE = 8


@dataclass
class RuleSet:
    """Generated rules, split by owner, plus the restore text that loads them."""

    flannel_rules: list[Rule] = field(default_factory=list)
    flannel_chains: list[Chain] = field(default_factory=list)
    foreign_rules: list[Rule] = field(default_factory=list)
    foreign_chains: list[Chain] = field(default_factory=list)

    def restore_text(self) -> str:
        """``iptables-restore`` input creating every chain and rule."""
        out: list[str] = []
        for table, builtins in BUILTIN.items():
            out.append(f"*{table}")
            out += [f":{c} ACCEPT [0:0]" for c in builtins]
            chains = self.flannel_chains + self.foreign_chains
            out += [f":{c} - [0:0]" for t, c in chains if t == table]
            rules = self.foreign_rules + self.flannel_rules
            out += [line for t, line in rules if t == table]
            out.append("COMMIT")
        return "\n".join(out) + "\n"


def _tag(kind: str, index: int) -> str:
    digest = hashlib.sha256(f"{kind}-{index}".encode()).hexdigest()
    return digest[:16].upper()


def _service(i: int) -> tuple[list[Rule], list[Chain]]:
    """kube-proxy's rules for ClusterIP service ``i`` with two endpoints."""
    ip = ipaddress.IPv4Address("10.96.0.10") + i
    svc, name = f"KUBE-SVC-{_tag('svc', i)}", f"default/svc-{i}:http"
    eps = [
        (f"KUBE-SEP-{_tag(f'sep{e}', i)}", f"10.244.{1 + (i + e) % 250}.{2 + i % 200}")
        for e in (0, 1)
    ]
    head = f'-d {ip}/32 -p tcp -m comment --comment "{name} cluster IP" -m tcp'
    rules: list[Rule] = [
        ("nat", f"-A KUBE-SERVICES {head} --dport 80 -j {svc}"),
        ("nat", f"-A {svc} ! -s {NETWORK} {head} --dport 80 -j KUBE-MARK-MASQ"),
        (
            "nat",
            f'-A {svc} -m comment --comment "{name} -> {eps[0][1]}:8080"'
            f" -m statistic --mode random --probability 0.50000000000 -j {eps[0][0]}",
        ),
        (
            "nat",
            f'-A {svc} -m comment --comment "{name} -> {eps[1][1]}:8080"'
            f" -j {eps[1][0]}",
        ),
    ]
    for sep, ep in eps:
        rules += [
            (
                "nat",
                f'-A {sep} -s {ep}/32 -m comment --comment "{name}" -j KUBE-MARK-MASQ',
            ),
            (
                "nat",
                f'-A {sep} -p tcp -m comment --comment "{name}" -m tcp'
                f" -j DNAT --to-destination {ep}:8080",
            ),
        ]
    chains = [("nat", svc)] + [("nat", sep) for sep, _ in eps]
    return rules, chains


def generate(foreign_rules: int) -> RuleSet:
    """Flannel's rules plus exactly ``foreign_rules`` foreign rules."""
    if foreign_rules < len(FIXED_FOREIGN):
        raise ValueError(f"need at least {len(FIXED_FOREIGN)} foreign rules")
    rs = RuleSet(list(FLANNEL_RULES), list(FLANNEL_CHAINS))
    rs.foreign_rules = list(FIXED_FOREIGN)
    rs.foreign_chains = list(FIXED_FOREIGN_CHAINS)
    remaining = foreign_rules - len(FIXED_FOREIGN)
    for i in range(remaining // RULES_PER_SERVICE):
        rules, chains = _service(i)
        rs.foreign_rules += rules
        rs.foreign_chains += chains
    for k in range(remaining % RULES_PER_SERVICE):
        # extra SSH allow rules for admin networks fill up to the exact count
        rs.foreign_rules.append(
            (
                "filter",
                f"-A INPUT -s 198.19.{k}.0/24 -p tcp -m tcp --dport 22 -j ACCEPT",
            )
        )
    return rs
