"""Positive ownership of iptables chains/rules and ipsets by kube-router.

kube-router-footprint.md §2.4, §2.5: a chain is kube-router's by its exact name
(``KUBE-ROUTER-INPUT/FORWARD/OUTPUT/SERVICES/HAIRPIN``, ``KUBE-NWPLCY-DEFAULT/COMMON/
TAIL``, ``KUBE-POD-FW-<16 base32>``, ``KUBE-NWPLCY-<16 base32>``) -- never by the
``KUBE-`` prefix kube-proxy shares; a rule by jumping to an owned chain, by the exact
comment of the routes controller's FORWARD ACCEPTs, or by the exact spec of the pod
egress MASQUERADE (and its older variants); an ipset by its exact name
(``kube-router-*`` sets, ``KUBE-SRC-``/``KUBE-DST-<16 base32>``, ``inet6:`` twins)
unless a rule that stays still uses it.

>>> chain_reason("KUBE-POD-FW-LAEH7HKVT5WFFL5O") is not None
True
>>> chain_reason("KUBE-FORWARD"), chain_reason("KUBE-SVC-ABCDEFGHIJKLMNOP")
(None, None)
>>> rule_candidate("filter", "KUBE-SVC-X", "-A KUBE-SVC-X -j KUBE-SEP-Y")
False
"""

from __future__ import annotations

import re

from cniscrub.footprints.model import Claim, Footprint, LeftAlone
from cniscrub.inventory.model import Inventory, Resource

B32 = "[A-Z2-7]{16}"
CHAINS = {
    "KUBE-ROUTER-INPUT",
    "KUBE-ROUTER-FORWARD",
    "KUBE-ROUTER-OUTPUT",
    "KUBE-ROUTER-SERVICES",  # service proxy only (§2.4)
    "KUBE-ROUTER-HAIRPIN",
    "KUBE-NWPLCY-DEFAULT",
    "KUBE-NWPLCY-COMMON",
    "KUBE-NWPLCY-TAIL",
}
HASHED = re.compile(rf"^KUBE-(?:POD-FW|NWPLCY)-{B32}$")
LOOKALIKE = ("KUBE-ROUTER", "KUBE-POD-FW-", "KUBE-NWPLCY-")
FORWARD_COMMENTS = {  # §2.4 enableForwarding, with the interface they must name
    "allow outbound traffic from pods": ("in", "kube-bridge"),
    "allow inbound traffic to pods": ("out", "kube-bridge"),
    "allow outbound node port traffic on node interface with which node ip is "
    "associated": ("out", None),
}
POD_SET, NODE_SET = "kube-router-pod-subnets", "kube-router-node-ips"
SETS = {
    POD_SET,
    NODE_SET,
    "kube-router-local-pods",
    "kube-router-local-ips",
    "kube-router-svip",
    "kube-router-svip-prt",
}
HASHED_SET = re.compile(rf"^KUBE-(?:SRC|DST)-{B32}$")


def chain_reason(name: str) -> str | None:
    if name in CHAINS:
        return f"chain {name} is one of kube-router's (§2.4)"
    if HASHED.match(name):
        return f"per-pod/per-policy chain {name} of kube-router's firewall (§2.4)"
    return None


def set_reason(name: str) -> str | None:
    bare = name.removeprefix("inet6:")
    if bare in SETS:
        return f"ipset {name} is one of kube-router's (§2.5)"
    if HASHED_SET.match(bare):
        return f"network-policy ipset {name} of kube-router (§2.5)"
    return None


def masquerade_specs(family: int) -> list[list[str]]:
    """§2.4 pod egress MASQUERADE, with and without ``--random-fully``, and the older
    variants without the node-ips match (``deleteBadPodEgressRules``)."""
    prefix = "inet6:" if family == 6 else ""
    pod, node = prefix + POD_SET, prefix + NODE_SET
    head = ["-m", "set", "--match-set", pod, "src", "-m", "set", "!", "--match-set",
            pod, "dst"]  # fmt: skip
    nodes = ["-m", "set", "!", "--match-set", node, "dst"]
    out = []
    for body in (head + nodes, head):
        out += [
            [*body, "-j", "MASQUERADE"],
            [*body, "-j", "MASQUERADE", "--random-fully"],
        ]
    return out


def rule_candidate(table: str, chain: str, line: str) -> bool:
    """Cheap pre-filter of ``-A`` lines worth parsing (never decides ownership)."""
    return any(
        s in line
        for s in ("KUBE-ROUTER", "KUBE-POD-FW-", "KUBE-NWPLCY-", "kube-router",
                  "kube-bridge", "node port traffic", "KUBE-SRC-", "KUBE-DST-")
    )  # fmt: skip


def where(d: dict[str, object]) -> str:
    return f"{d['table']}, {d['backend']} backend, IPv{d['family']}"


def _chains(fp: Footprint, inv: Inventory) -> set[str]:
    by_chain: dict[str, list[Resource]] = {}
    for r in inv.of("ipt_rule"):
        by_chain.setdefault(r.key.rsplit(":", 1)[0], []).append(r)
    owned = set()
    for c in inv.of("ipt_chain"):
        name, label = (
            c.data["chain"],
            f"chain {c.data['chain']} ({where(dict(c.data))})",
        )
        if c.data["builtin"]:
            continue
        why = chain_reason(name)
        rules = by_chain.get(c.key, [])
        if why:
            ev = [why, f"{len(rules)} rule(s) in the chain are backed up with it"]
            fp.claims.append(Claim(c, label, ev, rules))
            owned.add(c.key)
        elif name.startswith(LOOKALIKE):
            fp.left_alone.append(LeftAlone(label, "not a chain name kube-router uses"))
    return owned


def _forward_reason(d: dict[str, object]) -> str | None:
    want = FORWARD_COMMENTS.get(str(d.get("comment")))
    if d["table"] != "filter" or d["chain"] != "FORWARD" or want is None:
        return None
    tokens = list(d["tokens"])  # type: ignore[call-overload]
    flag = "-i" if want[0] == "in" else "-o"
    iface = tokens[tokens.index(flag) + 1] if flag in tokens else None
    if iface is None or (want[1] is not None and iface != want[1]) or "!" in tokens:
        return None
    if tokens[-2:] != ["-j", "ACCEPT"]:
        return None
    return f'FORWARD ACCEPT commented "{d["comment"]}" (§2.4)'


def _rules(fp: Footprint, inv: Inventory, owned: set[str]) -> set[str]:
    names = {k.rsplit(":", 1)[-1] for k in owned}
    claimed = set()
    for r in inv.of("ipt_rule"):
        d = r.data
        chain_key = r.key.rsplit(":", 1)[0]
        if chain_key in owned:
            continue
        label = f"rule -A {d['chain']} {d['spec']} ({where(dict(d))})"
        prefix = chain_key.rsplit(":", 1)[0]
        why = None
        if d["jump"] in names and f"{prefix}:{d['jump']}" in owned:
            why = f"jumps to owned chain {d['jump']}"
        elif _forward_reason(dict(d)):
            why = _forward_reason(dict(d))
        elif (
            d["table"] == "nat"
            and d["chain"] == "POSTROUTING"
            and (list(d["tokens"]) in masquerade_specs(d["family"]))
        ):
            why = "exact spec of kube-router's pod egress MASQUERADE (§2.4)"
        if why:
            fp.claims.append(Claim(r, label, [why]))
            claimed.add(r.key)
    return claimed


def _sets(fp: Footprint, inv: Inventory, gone: set[str]) -> None:
    users: dict[str, list[str]] = {}
    for r in inv.of("ipt_rule"):
        if r.key in gone or r.key.rsplit(":", 1)[0] in gone:
            continue
        tokens = list(r.data["tokens"])
        for i, tok in enumerate(tokens[:-1]):
            if tok == "--match-set":
                users.setdefault(tokens[i + 1], []).append(r.data["spec"])
    for s in inv.of("ipset"):
        why = set_reason(s.key)
        label = f"ipset {s.key} ({s.data['type']}, {len(s.data['members'])} member(s))"
        if why is None:
            if s.key.startswith(("kube-router", "inet6:kube-router")):
                fp.left_alone.append(
                    LeftAlone(label, "not a set name kube-router uses")
                )
            continue
        if users.get(s.key):
            fp.left_alone.append(
                LeftAlone(label, f"still used by -A … {users[s.key][0]}")
            )
            continue
        ev = [why, "every member is backed up with it"]
        fp.claims.append(Claim(s, label, ev))


def match_netfilter(fp: Footprint, inv: Inventory) -> None:
    owned = _chains(fp, inv)
    claimed = _rules(fp, inv, owned)
    _sets(fp, inv, owned | claimed)
