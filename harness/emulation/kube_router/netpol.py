"""The network policy controller's filter chains with no NetworkPolicy (pure).

kube-router-footprint.md §2.4 (iptables backend): ``KUBE-ROUTER-INPUT/FORWARD/OUTPUT``
entered from INPUT/FORWARD/OUTPUT at position 1 by a rule commented
``kube-router netpol - <16-char base32>``; ``KUBE-ROUTER-INPUT`` starts with RETURNs for
the service cluster IP range and LOCAL node ports (TCP, UDP, SCTP); ``KUBE-NWPLCY-DEFAULT``
marks 0x10000; ``KUBE-NWPLCY-COMMON`` (about v2.6+) drops INVALID, accepts
RELATED/ESTABLISHED and some ICMP; one ``KUBE-POD-FW-<16 base32 of sha256(namespace +
pod + syncVersion)>`` per local running pod with an IP, so names change on every full
sync, jumped to from FORWARD/OUTPUT on ``-d podIP``, from all three on ``-s podIP``,
plus ``--physdev-is-bridged`` variants in FORWARD; each top-level chain ends with an
ACCEPT of mark 0x20000. The comment's suffix is base32(sha256(chain + the rule spec))
[:16] (the reference says only "16-char base32"; the hash input is inferred).

>>> pod_chain(LocalPod("default", "web-1", "10.244.1.5"), "1700000000000000000")[:12]
'KUBE-POD-FW-'
>>> len(uuid_for("INPUT", ("x",)))
16
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass

from harness.emulation.kube_router.rules import Rule, comment, restore_line

TOP_LEVEL = {
    "INPUT": "KUBE-ROUTER-INPUT",
    "FORWARD": "KUBE-ROUTER-FORWARD",
    "OUTPUT": "KUBE-ROUTER-OUTPUT",
}
DEFAULT_CHAIN = "KUBE-NWPLCY-DEFAULT"
COMMON_CHAIN = "KUBE-NWPLCY-COMMON"
POD_CHAIN_PREFIX = "KUBE-POD-FW-"
MARK_MATCHED = "0x10000/0x10000"
MARK_ACCEPT = "0x20000/0x20000"


@dataclass(frozen=True)
class LocalPod:
    """A local, non-hostNetwork, running pod with an IP (§2.4)."""

    namespace: str
    name: str
    ip: str


def _b32(text: str) -> str:
    return base64.b32encode(hashlib.sha256(text.encode()).digest()).decode()[:16]


def uuid_for(chain: str, spec: tuple[str, ...]) -> str:
    return _b32(chain + "".join(spec))


def pod_chain(pod: LocalPod, sync_version: str) -> str:
    return POD_CHAIN_PREFIX + _b32(pod.namespace + pod.name + sync_version)


def _tagged(
    chain: str, text: str, spec: tuple[str, ...], save: tuple[str, ...]
) -> Rule:
    """A rule whose comment ``text`` gets `` - <uuid>`` of its kube-router ``spec``
    (comment first, as kube-router builds it); ``save`` has ``"@"`` where the
    comment text goes."""
    tagged = f"{text} - {uuid_for(chain, (*comment(text), *spec))}"
    return Rule("filter", chain, tuple(tagged if a == "@" else a for a in save))


COMMENT_AT = ("-m", "comment", "--comment", "@")


def top_level_jumps() -> list[Rule]:
    """INPUT/FORWARD/OUTPUT -> KUBE-ROUTER-*, each kept at position 1."""
    text = "kube-router netpol"
    return [
        _tagged(b, text, ("-j", c), (*COMMENT_AT, "-j", c))
        for b, c in TOP_LEVEL.items()
    ]


def input_whitelist(service_ranges: list[str], node_ports: str) -> list[Rule]:
    """The RETURNs ``KUBE-ROUTER-INPUT`` starts with."""
    chain, out = TOP_LEVEL["INPUT"], []
    for cidr in service_ranges:
        text = "allow traffic to primary/secondary cluster IP range"
        spec = ("-d", cidr, "-j", "RETURN")
        out.append(
            _tagged(chain, text, spec, ("-d", cidr, *COMMENT_AT, "-j", "RETURN"))
        )
    ports = node_ports.replace("-", ":")
    local = ("-m", "addrtype", "--dst-type", "LOCAL")
    match = (*local, "-m", "multiport", "--dports", ports, "-j", "RETURN")
    for proto in ("tcp", "udp", "sctp"):
        text = f"allow LOCAL {proto.upper()} traffic to node ports"
        save = ("-p", proto, *COMMENT_AT, *match)
        out.append(_tagged(chain, text, match, save))
    return out


def _rule(chain: str, *spec: str) -> Rule:
    return Rule("filter", chain, spec)


def _stateful(chain: str) -> list[Rule]:
    ctstate = ("-m", "conntrack", "--ctstate")
    return [
        _rule(
            chain,
            *comment("rule to drop invalid state for pod"),
            *(*ctstate, "INVALID", "-j", "DROP"),
        ),
        _rule(
            chain,
            *comment("rule for stateful firewall for pod"),
            *(*ctstate, "RELATED,ESTABLISHED", "-j", "ACCEPT"),
        ),
    ]


ICMP_ACCEPTS = (
    (8, "allow icmp echo requests"),
    (3, "allow icmp destination unreachable messages"),
    (11, "allow icmp time exceeded messages"),
)


def common_rules() -> list[Rule]:
    """``KUBE-NWPLCY-COMMON``: invalid/stateful rules and ICMP accepts."""
    icmp = [
        _rule(COMMON_CHAIN, "-p", "icmp", *comment(text), "-m", "icmp",
              "--icmp-type", str(t), "-j", "ACCEPT")
        for t, text in ICMP_ACCEPTS
    ]  # fmt: skip
    return _stateful(COMMON_CHAIN) + icmp


def default_rules() -> list[Rule]:
    text = "rule to mark traffic matching a network policy"
    mark = ("-j", "MARK", "--set-xmark", MARK_MATCHED)
    return [_rule(DEFAULT_CHAIN, *comment(text), *mark)]


def pod_rules(pod: LocalPod, chain: str, common: bool) -> list[Rule]:
    """The pod's firewall chain when no NetworkPolicy selects it."""
    who = f"POD name:{pod.name} namespace: {pod.namespace}"
    ip = f"{pod.ip}/32"
    first = (
        [_rule(chain, *comment("run through common rules"), "-j", COMMON_CHAIN)]
        if common
        else _stateful(chain)
    )
    local = (
        "rule to permit the traffic traffic to pods when source is the pod's local node"
    )
    unmarked = ("-m", "mark", "!", "--mark", MARK_MATCHED)
    limit = ("-m", "limit", "--limit", "10/min", "--limit-burst", "10")
    nflog = (*limit, "-j", "NFLOG", "--nflog-group", "100")
    reject = ("-j", "REJECT", "--reject-with", "icmp-port-unreachable")
    accept = "set mark to ACCEPT traffic that comply to network policies"
    return [
        *first,
        _rule(chain, "-d", ip, *comment(local), "-m", "addrtype", "--src-type",
              "LOCAL", "-j", "ACCEPT"),
        _rule(chain, "-d", ip, *comment("run through default ingress network policy"
              "  chain"), "-j", DEFAULT_CHAIN),
        _rule(chain, "-s", ip, *comment("run through default egress network policy"
              "  chain"), "-j", DEFAULT_CHAIN),
        _rule(chain, *comment(f"rule to log dropped traffic {who}"), *unmarked, *nflog),
        _rule(chain, *comment(f"rule to REJECT traffic destined for {who}"), *unmarked,
              *reject),
        _rule(chain, "-j", "MARK", "--set-xmark", "0x0/0x10000"),
        _rule(chain, *comment(accept), "-j", "MARK", "--set-xmark", MARK_ACCEPT),
    ]  # fmt: skip


def pod_jumps(pod: LocalPod, chain: str) -> list[Rule]:
    """Jumps from the top-level chains into the pod's chain."""
    ip = f"{pod.ip}/32"
    who = f"POD name:{pod.name} namespace: {pod.namespace} to chain {chain}"
    to = comment(f"rule to jump traffic destined to {who}")
    frm = comment(f"rule to jump traffic from {who}")
    phys = ("-m", "physdev", "--physdev-is-bridged")
    fwd, out, inp = TOP_LEVEL["FORWARD"], TOP_LEVEL["OUTPUT"], TOP_LEVEL["INPUT"]
    return [
        _rule(fwd, "-d", ip, *to, "-j", chain),
        _rule(fwd, "-d", ip, *phys, *to, "-j", chain),
        _rule(out, "-d", ip, *to, "-j", chain),
        _rule(inp, "-s", ip, *frm, "-j", chain),
        _rule(fwd, "-s", ip, *frm, "-j", chain),
        _rule(fwd, "-s", ip, *phys, *frm, "-j", chain),
        _rule(out, "-s", ip, *frm, "-j", chain),
    ]


def explicit_accepts() -> list[Rule]:
    text = "rule to explicitly ACCEPT traffic that comply to network policies"
    spec = (*comment(text), "-m", "mark", "--mark", MARK_ACCEPT, "-j", "ACCEPT")
    return [_rule(c, *spec) for c in TOP_LEVEL.values()]


def sync_payload(
    pods: list[LocalPod],
    sync_version: str,
    stale: list[str],
    service_ranges: list[str],
    node_ports: str,
    common: bool = True,
) -> tuple[str, list[str]]:
    """One full sync as an ``iptables-restore --noflush`` filter transaction: the
    controller's chains flushed and refilled, new pod chains made, ``stale`` pod chains
    deleted. Returns the text and the new pod chain names."""
    chains = {p: pod_chain(p, sync_version) for p in pods}
    own = [*TOP_LEVEL.values(), DEFAULT_CHAIN, *([COMMON_CHAIN] if common else [])]
    declared = [*own, *chains.values(), *stale]
    rules = default_rules() + (common_rules() if common else [])
    rules += input_whitelist(service_ranges, node_ports)
    for pod, chain in chains.items():
        rules += pod_rules(pod, chain, common) + pod_jumps(pod, chain)
    rules += explicit_accepts()
    lines = ["*filter", *(f":{c} - [0:0]" for c in declared)]
    lines += [restore_line(r) for r in rules]
    lines += [f"-X {c}" for c in stale]
    return "\n".join([*lines, "COMMIT", ""]), list(chains.values())
