"""Positive ownership of iptables chains/rules and nft tables by Flannel.

A rule is Flannel's because of its chain (``FLANNEL-POSTRTG``, ``FLANNEL-FWD``), its
comment (``flanneld masq``/``flanneld forward``), a ``CNI-…`` chain comment naming
Flannel's network (``cbr0``), or -- for the unmarked masquerade rules of old flannel --
an exact spec built from the cluster network proven by *other* evidence.

>>> old_masq_specs("10.244.0.0/16", "10.244.1.0/24")[0]
['-s', '10.244.0.0/16', '-d', '10.244.0.0/16', '-j', 'RETURN']
"""

from __future__ import annotations

import re

from cniscrub.footprints.model import Claim, Footprint, LeftAlone
from cniscrub.inventory.model import Inventory, Resource

FLANNEL_CHAINS = ("FLANNEL-POSTRTG", "FLANNEL-FWD")  # flannel-footprint.md §2.4
FLANNEL_COMMENTS = ("flanneld masq", "flanneld forward")
FLANNEL_NFT = ("ip flannel-ipv4", "ip6 flannel-ipv6")  # §2.5
BRIDGE_MASQ = re.compile(r"^CNI-[0-9a-f]{24}$")  # §4 bridge ipMasq chain
PORTMAP_DN = re.compile(r"^CNI-DN-[0-9a-f]+$")
HOSTPORT = ("CNI-HOSTPORT-DNAT", "CNI-HOSTPORT-SETMARK", "CNI-HOSTPORT-MASQ")


def old_masq_specs(
    network: str, podcidr: str | None, v6: bool = False
) -> list[list[str]]:
    """The unmarked masquerade rules of pre-comment flannel (k3s#5001, rke2#2599)."""
    mcast = "ff00::/8" if v6 else "224.0.0.0/4"
    specs = [
        ["-s", network, "-d", network, "-j", "RETURN"],
        ["-s", network, "!", "-d", mcast, "-j", "MASQUERADE"],
        ["!", "-s", network, "-d", network, "-j", "MASQUERADE"],
    ]
    if podcidr:
        specs.append(["!", "-s", network, "-d", podcidr, "-j", "RETURN"])
    return specs + [[*s, "--random-fully"] for s in specs if s[-1] == "MASQUERADE"]


def rule_candidate(table: str, chain: str, line: str) -> bool:
    """Cheap pre-filter of ``-A`` lines worth parsing: only these can be claimed or
    give a fact -- a rule in or jumping to a ``CNI-*``/``*flannel*`` chain, a
    ``flanneld`` comment (all contain those substrings), or any nat POSTROUTING rule
    (old unmarked masquerade, matched by exact spec). It never decides ownership.

    >>> rule_candidate("filter", "KUBE-SVC-X", "-A KUBE-SVC-X -d 10.96.0.1/32 -j RETURN")
    False
    """
    return (
        "CNI-" in line
        or "flannel" in line.lower()
        or (table == "nat" and chain == "POSTROUTING")
    )


def where(d: dict[str, object]) -> str:
    return f"{d['table']}, {d['backend']} backend, IPv{d['family']}"


def rules_by_chain(inv: Inventory) -> dict[str, list[Resource]]:
    """Rules grouped by their chain's key, in one pass (big kube-proxy tables)."""
    out: dict[str, list[Resource]] = {}
    for r in inv.of("ipt_rule"):
        out.setdefault(r.key.rsplit(":", 1)[0], []).append(r)
    return out


def _claim_chain(
    fp: Footprint, chain: Resource, rules: list[Resource], why: str
) -> None:
    ev = [why, f"{len(rules)} rule(s) in the chain are backed up with it"]
    label = f"chain {chain.data['chain']} ({where(dict(chain.data))})"
    fp.claims.append(Claim(chain, label, ev, rules))


def _cbr0_comment(rules: list[Resource], netname: str) -> bool:
    marks = [str(r.data.get("comment") or "") for r in rules]
    return bool(marks) and all(f'name: "{netname}"' in m for m in marks)


def _portmap_in_use(fp: Footprint) -> list[str]:
    import json

    users = [json.loads(v) for v in fp.fact("other_confs").values]
    return [u["path"] for u in users if u["portmap"]]


def _verdict(
    fp: Footprint, name: str, rules: list[Resource]
) -> tuple[bool, str] | None:
    """(owned?, why) for a user chain, or None when it is not worth mentioning."""
    netname = fp.fact("network_name").values[0]
    if name in FLANNEL_CHAINS:
        return True, f"chain {name} is created only by flanneld (§2.4)"
    if (BRIDGE_MASQ.match(name) or PORTMAP_DN.match(name)) and _cbr0_comment(
        rules, netname
    ):
        return True, f'every rule is commented name: "{netname}" (§4)'
    if name in HOSTPORT:
        users = _portmap_in_use(fp)
        if users:
            return False, "still used by " + ", ".join(users)
        if fp.fact("portmap").proven or fp.fact("network4").proven:
            return (
                True,
                "portmap chain of Flannel's conf; no other CNI conf uses portmap",
            )
        return False, "no evidence Flannel's conf installed portmap"
    if name.startswith("CNI-") or "FLANNEL" in name.upper():
        return False, "not proven Flannel's (name/comment)"
    return None


def _claimed_chains(fp: Footprint, inv: Inventory) -> set[str]:
    by_chain = rules_by_chain(inv)
    owned: set[str] = set()
    for c in inv.of("ipt_chain"):
        if c.data["builtin"]:
            continue
        rules = by_chain.get(c.key, [])
        verdict = _verdict(fp, c.data["chain"], rules)
        if verdict is None:
            continue
        mine, why = verdict
        if mine:
            _claim_chain(fp, c, rules, why)
            owned.add(c.key)
        else:
            target = f"chain {c.data['chain']} ({where(dict(c.data))})"
            fp.left_alone.append(LeftAlone(target, why))
    return owned


def _claim_rules(fp: Footprint, inv: Inventory, owned: set[str]) -> None:
    owned_names = {k.rsplit(":", 1)[-1] for k in owned}
    for r in inv.of("ipt_rule"):
        d = r.data
        chain_key = r.key.rsplit(":", 1)[0]
        if chain_key in owned:
            continue
        prefix = chain_key.rsplit(":", 1)[0]
        target = f"{prefix}:{d['jump']}"
        label = f"rule -A {d['chain']} {d['spec']} ({where(dict(d))})"
        if target in owned and d["jump"] in owned_names:
            fp.claims.append(Claim(r, label, [f"jumps to owned chain {d['jump']}"]))
        elif d["comment"] in FLANNEL_COMMENTS:
            fp.claims.append(Claim(r, label, [f'comment "{d["comment"]}" (§2.4)']))
        elif (
            d["table"] == "nat" and d["chain"] == "POSTROUTING" and d["comment"] is None
        ):
            _maybe_old_masq(fp, r, label)


def _maybe_old_masq(fp: Footprint, r: Resource, label: str) -> None:
    fam = r.data["family"]
    nets, pods = fp.fact(f"network{fam}"), fp.fact(f"podcidr{fam}")
    for net in nets.values:
        candidates: list[str | None] = [*pods.values] or [None]
        for pod in candidates:
            if r.data["tokens"] in old_masq_specs(net, pod, fam == 6):
                ev = [
                    f"exact unmarked old-flannel masquerade spec for network {net}",
                    *nets.sources[:3],
                ]
                fp.claims.append(Claim(r, label, ev))
                return


def match_netfilter(fp: Footprint, inv: Inventory) -> None:
    owned = _claimed_chains(fp, inv)
    _claim_rules(fp, inv, owned)
    for t in inv.of("nft_table"):
        if t.key in FLANNEL_NFT:
            fp.claims.append(
                Claim(
                    t,
                    f"nft table {t.key}",
                    [f"table {t.key} is created only by flanneld (§2.5)"],
                )
            )
        elif "flannel" in t.key:
            fp.left_alone.append(
                LeftAlone(f"nft table {t.key}", "not a flanneld table name")
            )
