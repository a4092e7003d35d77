"""The routes controller's iptables rules, as ``iptables-save`` prints them (pure).

kube-router-footprint.md §2.4 (router controller): three filter FORWARD ACCEPT rules,
each inserted at position 1 when missing, and one nat POSTROUTING MASQUERADE rule
(no comment), appended, only with ``--enable-pod-egress``; older variants of the
MASQUERADE rule (without the node-ips match) are deleted at start.
A :class:`Rule` is one line; :meth:`Rule.argv` gives the arguments for ``iptables``.

>>> for part in masquerade().save_line().split(" -m "):
...     print(part)
-A POSTROUTING
set --match-set kube-router-pod-subnets src
set ! --match-set kube-router-pod-subnets dst
set ! --match-set kube-router-node-ips dst -j MASQUERADE --random-fully
"""

from __future__ import annotations

from dataclasses import dataclass

BRIDGE = "kube-bridge"  # §2.2
POD_SUBNETS_SET = "kube-router-pod-subnets"  # §2.5
NODE_IPS_SET = "kube-router-node-ips"  # §2.5


@dataclass(frozen=True)
class Rule:
    """One iptables rule: table, chain and its spec in ``iptables-save`` order."""

    table: str
    chain: str
    spec: tuple[str, ...]

    def save_line(self) -> str:
        """The rule as ``iptables-save`` prints it (comments quoted)."""
        return " ".join(["-A", self.chain, *(_quote(a) for a in self.spec)])

    def argv(self, action: str = "-A", position: int | None = None) -> list[str]:
        """``[-t table, action, chain, (position), spec...]`` for ``iptables``."""
        pos = [str(position)] if position is not None else []
        return ["-t", self.table, action, self.chain, *pos, *self.spec]


def _quote(arg: str) -> str:
    return f'"{arg}"' if (" " in arg or not arg) else arg


def restore_line(rule: Rule, action: str = "-A", position: int | None = None) -> str:
    """The rule as an ``iptables-restore`` line."""
    pos = [str(position)] if position is not None else []
    return " ".join([action, rule.chain, *pos, *(_quote(a) for a in rule.spec)])


def comment(text: str) -> tuple[str, ...]:
    return ("-m", "comment", "--comment", text)


def forward_rules(nic: str) -> list[Rule]:
    """§2.4 ``enableForwarding``, in the order they are inserted at position 1."""
    return [
        Rule(
            "filter",
            "FORWARD",
            (
                "-i",
                BRIDGE,
                *comment("allow outbound traffic from pods"),
                "-j",
                "ACCEPT",
            ),
        ),
        Rule(
            "filter",
            "FORWARD",
            ("-o", BRIDGE, *comment("allow inbound traffic to pods"), "-j", "ACCEPT"),
        ),
        Rule(
            "filter",
            "FORWARD",
            (
                "-o",
                nic,
                *comment(
                    "allow outbound node port traffic on node interface with which "
                    "node ip is associated"
                ),
                "-j",
                "ACCEPT",
            ),
        ),
    ]


_POD_SRC = ("-m", "set", "--match-set", POD_SUBNETS_SET, "src")
_NOT_POD_DST = ("-m", "set", "!", "--match-set", POD_SUBNETS_SET, "dst")
_NOT_NODE_DST = ("-m", "set", "!", "--match-set", NODE_IPS_SET, "dst")


def masquerade(random_fully: bool = True) -> Rule:
    """§2.4 pod egress: pod subnets to anything but pod subnets and node IPs."""
    tail = ("-j", "MASQUERADE", *(("--random-fully",) if random_fully else ()))
    return Rule("nat", "POSTROUTING", (*_POD_SRC, *_NOT_POD_DST, *_NOT_NODE_DST, *tail))


def bad_masquerade_variants() -> list[Rule]:
    """§2.4 ``deleteBadPodEgressRules``: the older rules without the node-ips match."""
    return [
        Rule("nat", "POSTROUTING", (*_POD_SRC, *_NOT_POD_DST, "-j", "MASQUERADE", *t))
        for t in ((), ("--random-fully",))
    ]
