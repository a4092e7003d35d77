"""Cross-check Flannel's network facts before anything is claimed with them.

``subnet.env``, the conf's delegate, the ``FLANNEL-*`` rules, the nft tables and the
node's lease addresses each say something about the cluster network and the local
podCIDR. A value is used only when it is plausible for a cluster network (never
``0.0.0.0/0``), agrees with every other kind of source that speaks of it (equal or
nested), contains the node's own lease, and -- when sources nest -- is the narrowest
they agree on. Everything rejected is kept with why (``Fact.rejected``) and reported as
a warning: conflicting facts narrow what is claimed, never widen it. When sources
contradict each other so that no value is left, the node is *unresolved*: what depends
on that fact is left alone, so ``verify`` must not call the node clean.

>>> from cniscrub.footprints.model import Footprint
>>> fp = Footprint("flannel")
>>> fp.fact("network4").add("0.0.0.0/0", "subnet.env FLANNEL_NETWORK", "subnet.env")
>>> fp.fact("network4").add("10.244.0.0/16", "FLANNEL-FWD rule", "iptables rules")
>>> settle(fp); fp.fact("network4").values
['10.244.0.0/16']
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from cniscrub.footprints.model import Fact, Footprint

MIN_PREFIX = {4: 8, 6: 16}  # a cluster network wider than this is not one
Net = ipaddress.IPv4Network | ipaddress.IPv6Network


def _nets(values: Iterable[str]) -> list[Net]:
    return [ipaddress.ip_network(v) for v in values]


def _inside(a: Net, b: Net) -> bool:
    return a.version == b.version and a.subnet_of(b)  # type: ignore[arg-type]


def _nested(a: Net, b: Net) -> bool:
    return _inside(a, b) or _inside(b, a)


def _describe(fact: Fact, value: str) -> str:
    return f"{value} ({', '.join(sorted(fact.kinds.get(value, ())))})"


def _reject(fp: Footprint, fact: Fact, value: str, why: str) -> None:
    fp.warnings.append(
        f"facts disagree: {fact.name} {_describe(fact, value)} {why}; not used"
    )
    fact.reject(value, why)


def _implausible(fp: Footprint, fact: Fact, fam: int) -> None:
    for v in list(fact.values):
        if ipaddress.ip_network(v).prefixlen < MIN_PREFIX[fam]:
            _reject(
                fp, fact, v, f"is wider than /{MIN_PREFIX[fam]}: not a cluster network"
            )


def _disagreeing(fp: Footprint, fact: Fact) -> None:
    """Drop values some other kind of source contradicts (no nested value)."""
    kinds = {k for v in fact.values for k in fact.kinds.get(v, ())}
    doomed = []
    for v in fact.values:
        net = ipaddress.ip_network(v)
        for kind in kinds - fact.kinds[v]:
            theirs = [w for w in fact.values if kind in fact.kinds[w]]
            if not any(_nested(net, ipaddress.ip_network(w)) for w in theirs):
                doomed.append((v, f"conflicts with {', '.join(theirs)} from {kind}"))
                break
    for v, why in doomed:
        _reject(fp, fact, v, why)


def _narrowest(fp: Footprint, fact: Fact) -> None:
    for v in list(fact.values):
        net = ipaddress.ip_network(v)
        inner = [
            w for w in fact.values if w != v and _nested(ipaddress.ip_network(w), net)
        ]
        if inner:
            _reject(
                fp, fact, v, f"is wider than {inner[0]}, which the other sources show"
            )


def _must_contain(fp: Footprint, fact: Fact, inside: list[Net], what: str) -> None:
    if not inside:
        return
    for v in list(fact.values):
        net = ipaddress.ip_network(v)
        if not any(_inside(i, net) for i in inside):
            _reject(fp, fact, v, f"does not contain {what} {inside[0]}")


def _leases(fp: Footprint, fam: int) -> list[Net]:
    return [ipaddress.ip_network(v) for v in fp.fact(f"lease{fam}").values]


def settle(fp: Footprint) -> None:
    """Settle ``podcidr4/6`` then ``network4/6`` in place (see the module docstring)."""
    for fam in (4, 6):
        pod, net = fp.fact(f"podcidr{fam}"), fp.fact(f"network{fam}")
        for fact in (pod, net):
            _implausible(fp, fact, fam)
            _disagreeing(fp, fact)
        _must_contain(fp, pod, _leases(fp, fam), "the lease address")
        if fp.fact("bridge").proven:  # the bridge Flannel's conf names
            bridge = _nets(fp.fact(f"bridge_net{fam}").values)
            for v in list(pod.values):
                if bridge and ipaddress.ip_network(v) not in bridge:
                    _reject(
                        fp, pod, v, f"is not the subnet of the bridge ({bridge[0]})"
                    )
        _narrowest(fp, net)
        _must_contain(
            fp, net, _nets(pod.values) or _leases(fp, fam), "the node's pod subnet"
        )
        for fact in (pod, net):
            if fact.rejected and not fact.values and not _only_implausible(fact, fam):
                fp.unresolved.append(
                    f"facts disagree about {fact.name} ({_listed(fact)}): what "
                    "depends on it was left alone"
                )


def _only_implausible(fact: Fact, fam: int) -> bool:
    return all(
        ipaddress.ip_network(v).prefixlen < MIN_PREFIX[fam] for v in fact.rejected
    )


def corroborated(fp: Footprint, fam: int) -> bool:
    """Is the cluster network shown by two kinds of source, or by one and an address
    of Flannel's own (its lease, or its conf's bridge) inside it?"""
    net = fp.fact(f"network{fam}")
    if not net.proven:
        return False
    if net.corroborated:
        return True
    own = _leases(fp, fam)
    if fp.fact("bridge").proven:
        own += _nets(fp.fact(f"bridge_net{fam}").values)
    return any(_nested(o, n) for o in own for n in _nets(net.values))


def _listed(fact: Fact) -> str:
    return "; ".join(f"{v} {why}" for v, why in fact.rejected.items())
