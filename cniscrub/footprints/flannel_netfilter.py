"""Positive ownership of iptables chains/rules and nft tables by Flannel.

A rule is Flannel's because of its chain (``FLANNEL-POSTRTG``, ``FLANNEL-FWD``), its
comment (``flanneld masq``/``flanneld forward``), a ``CNI-…`` chain comment naming
Flannel's network (``cbr0``), or -- for the unmarked masquerade rules of old flannel --
an exact spec built from the cluster network proven by *other* evidence. A name or a
comment alone is not ownership: a ``FLANNEL-*`` chain must hold only flanneld's rules
(its comment, addresses in the cluster network, the pod subnet or multicast), a
commented rule must sit where flanneld writes (nat ``POSTROUTING``, filter ``FORWARD``)
with such addresses, and an nft table must hold only flanneld's chains and networks;
anything else is left alone as a look-alike, with why.

>>> old_masq_specs("10.244.0.0/16", "10.244.1.0/24")[0]
['-s', '10.244.0.0/16', '-d', '10.244.0.0/16', '-j', 'RETURN']
"""

from __future__ import annotations

import ipaddress
import re

from cniscrub.footprints.model import Claim, Footprint, LeftAlone
from cniscrub.inventory.model import Inventory, Resource

FLANNEL_CHAINS = ("FLANNEL-POSTRTG", "FLANNEL-FWD")  # flannel-footprint.md §2.4
FLANNEL_COMMENTS = ("flanneld masq", "flanneld forward")
FLANNEL_NFT = ("ip flannel-ipv4", "ip6 flannel-ipv6")  # §2.5
BRIDGE_MASQ = re.compile(r"^CNI-[0-9a-f]{24}$")  # §4 bridge ipMasq chain
PORTMAP_DN = re.compile(r"^CNI-DN-[0-9a-f]+$")
HOSTPORT = ("CNI-HOSTPORT-DNAT", "CNI-HOSTPORT-SETMARK", "CNI-HOSTPORT-MASQ")
MULTICAST = {4: "224.0.0.0/4", 6: "ff00::/8"}  # flanneld's masq exception (§2.4)
WRITES_TO = (("nat", "POSTROUTING"), ("filter", "FORWARD"))  # flanneld's jumps (§2.4)
NFT_CHAINS = {"postrtg", "forward"}  # §2.5


def _vouched(fp: Footprint, family: int, besides: str) -> list[str]:
    """Settled values of the cluster network and pod subnet that something other than
    a ``besides`` source shows (an object is never its own evidence): another kind of
    source, or one of Flannel's own addresses (lease, conf's bridge) inside it."""
    own = [*fp.fact(f"lease{family}").values]
    if fp.fact("bridge").proven:
        own += fp.fact(f"bridge_net{family}").values
    out = []
    for name in (f"network{family}", f"podcidr{family}"):
        fact = fp.fact(name)
        for v in fact.values:
            net = ipaddress.ip_network(v)
            mine = [ipaddress.ip_network(o, strict=False) for o in own]
            if fact.kinds.get(v, set()) - {besides} or any(
                m.version == net.version and m.subnet_of(net)  # type: ignore[arg-type]
                for m in mine
            ):
                out.append(v)
    return out


def foreign_networks(
    fp: Footprint, family: int, addrs: list[str], besides: str = ""
) -> list[str]:
    """The ``addrs`` that lie in none of: the cluster network, the pod subnet,
    multicast (all of them, when the cluster network is not settled). ``besides``: a
    kind of source that does not count (the object being judged is one).

    >>> from cniscrub.footprints.model import Footprint
    >>> fp = Footprint("flannel"); fp.fact("network4").add("10.244.0.0/16", "x")
    >>> foreign_networks(fp, 4, ["10.244.0.0/16", "192.168.0.0/16", "224.0.0.0/4"])
    ['192.168.0.0/16']
    >>> foreign_networks(fp, 4, ["10.244.0.0/16"], besides="x")
    ['10.244.0.0/16']
    """
    own = [ipaddress.ip_network(n) for n in _vouched(fp, family, besides)]
    own.append(ipaddress.ip_network(MULTICAST[family]))
    out = []
    for a in addrs:
        try:
            net = ipaddress.ip_network(a, strict=False)
        except ValueError:
            out.append(a)
            continue
        if not any(net.version == o.version and net.subnet_of(o) for o in own):  # type: ignore[arg-type]
            out.append(a)
    return out


def _rule_doubt(fp: Footprint, d: dict[str, object]) -> str | None:
    if d["comment"] not in FLANNEL_COMMENTS:
        return f"rule {str(d['spec'])[:60]!r} has no flanneld comment"
    addrs = [str(a) for a in (d["source"], d["dest"]) if a]
    foreign = foreign_networks(fp, int(str(d["family"])), addrs)
    if foreign:
        return f"rule {str(d['spec'])[:60]!r} names {', '.join(foreign)}, not the cluster network"
    return None


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
        doubts = [w for w in (_rule_doubt(fp, dict(r.data)) for r in rules) if w]
        if doubts:
            return False, f"looks like Flannel's chain but {doubts[0]}"
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


def _commented(fp: Footprint, r: Resource, label: str, owned: set[str]) -> None:
    """A rule with flanneld's comment outside Flannel's chains: Flannel's only where
    flanneld writes, with its networks, not jumping into a chain left alone."""
    d = r.data
    doubt = _rule_doubt(fp, dict(d))
    prefix = r.key.rsplit(":", 2)[0]
    if (d["table"], d["chain"]) not in WRITES_TO:
        doubt = f"it is in chain {d['chain']}, where flanneld writes no rule"
    elif str(d["jump"]).startswith("FLANNEL-") and f"{prefix}:{d['jump']}" not in owned:
        doubt = f"it jumps to {d['jump']}, which is left alone"
    if doubt:
        fp.left_alone.append(
            LeftAlone(
                label, f'looks like Flannel\'s (comment "{d["comment"]}") but {doubt}'
            )
        )
    else:
        fp.claims.append(Claim(r, label, [f'comment "{d["comment"]}" (§2.4)']))


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
            _commented(fp, r, label, owned)
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
        doubt = _nft_doubt(fp, t) if t.key in FLANNEL_NFT else None
        if t.key in FLANNEL_NFT and doubt:
            why = f"looks like Flannel's table but {doubt}"
            fp.left_alone.append(LeftAlone(f"nft table {t.key}", why))
        elif t.key in FLANNEL_NFT:
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


PREFIX = re.compile(r'"prefix": \{"addr": "([0-9a-f.:]+)", "len": (\d+)\}')
ADDR = re.compile(r'"right": "([0-9a-f.:]+)"')


def _nft_doubt(fp: Footprint, t: Resource) -> str | None:
    """What in a ``flannel-ipv4/6`` table is not flanneld's (§2.5)."""
    extra = set(t.data["chains"]) - NFT_CHAINS
    if extra:
        return f"it holds chain(s) {', '.join(sorted(extra))}"
    fam = 4 if t.data["family"] == "ip" else 6
    for rule in t.data["rules"]:
        addrs = [f"{a}/{n}" for a, n in PREFIX.findall(rule["expr"])] + ADDR.findall(
            rule["expr"]
        )
        mine = [a for a in addrs if (":" in a) == (fam == 6)]
        foreign = foreign_networks(fp, fam, mine, besides="nft table")
        if foreign:
            return f"a rule in chain {rule['chain']} names {', '.join(foreign)}"
    return None
