"""Pure planning: ``Inventory + Footprint + Policy -> Plan``.

Claims become actions in a safe order -- netfilter first (jump rules, then chains, then
nft tables: traffic stops being rewritten), then routes, then devices (veths with their
bridge, in one batch), then files (the conf first, so no new pod picks the CNI). The
fingerprint hashes the facts and every target's identity; it exists even for an empty
plan, so a saved plan can never be applied to a node that changed.

>>> from cniscrub.inventory.model import Inventory
>>> p = build_plan(Inventory(), Policy("flannel")); (p.empty, len(p.fingerprint))
(True, 64)
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from cniscrub import footprints
from cniscrub.footprints.agents import agent_blockers
from cniscrub.footprints.model import Claim, Footprint
from cniscrub.inventory.model import Inventory
from cniscrub.plan.model import Action, Plan

VOLATILE = ("up", "state")
ORDER = {  # (phase, rank inside the phase)
    "ipt_rule": ("netfilter", 0),
    "ipt_chain": ("netfilter", 1),
    "nft_table": ("netfilter", 2),
    "ipset": ("netfilter", 3),  # after the rules that use it
    "route": ("routes", 0),
    "ip_rule": ("routes", 1),
    "link": ("links", 0),
}
BACKUP = {
    "ipt_rule": "the rule line and its position in the chain",
    "ipt_chain": "the chain and every rule line in it",
    "nft_table": "the table as nft JSON and nft text",
    "ipset": "the set's type, family, create options and every member",
    "route": "the route (table, type, gateway, device, metric)",
    "ip_rule": "the rule with every selector, its priority and its table",
    "link": "link spec (kind, MAC, MTU, master, vxlan/ipip attributes) with its "
    "addresses, routes, neighbours and FDB entries",
}


@dataclass(frozen=True)
class Policy:
    """What the operator asked for: which CNI (a name in
    :data:`cniscrub.footprints.FOOTPRINTS`), and whether to ignore a running agent."""

    cni: str
    force: bool = False


def _rank(c: Claim) -> tuple[int, str, int, str]:
    """Sort key: phase, batch (one iptables transaction per table and backend), order
    inside the batch (jump rules before the chains they target), then key."""
    kind, d = c.resource.kind, c.resource.data
    if kind == "file":
        conf_first = 0 if c.resource.key.startswith("/etc/cni/") else 1
        inner = conf_first if d.get("type") != "dir" else 9
        return (3, "", inner, _dir_depth_key(c.resource.key))
    phase, rank = ORDER[kind]
    batch = ""
    if kind in ("ipt_rule", "ipt_chain"):
        batch = f"{d['backend']}:{d['family']}:{d['table']}"
    if kind == "ipset":
        batch = "~"  # after every iptables batch: a set goes once no rule uses it
    if kind == "link":  # veths before their bridge is irrelevant: one batch
        rank = 0 if d["kind"] == "veth" else 1
    return (("netfilter", "routes", "links").index(phase), batch, rank, c.resource.key)


def _dir_depth_key(path: str) -> str:
    return f"{100 - path.count('/'):03d}{path}"


def _identity(c: Claim) -> dict[str, Any]:
    data = {k: v for k, v in c.resource.data.items() if k not in VOLATILE}
    return {
        "kind": c.resource.kind,
        "key": c.resource.key,
        "data": data,
        "covers": sorted(r.key for r in c.covers),
    }


def _action(i: int, c: Claim, fp: Footprint) -> Action:
    r = c.resource
    phase = "files" if r.kind == "file" else ORDER[r.kind][0]
    backup = BACKUP.get(r.kind, "file bytes, mode and owner")
    if r.kind == "file" and r.data.get("type") == "dir":
        backup = "directory mode and owner"
    data: dict[str, Any] = {
        "resource": r.to_json(),
        "covers": [x.to_json() for x in c.covers],
        **c.extra,
    }
    pod = next((p for p in fp.attached_pods if p["veth"] == r.key), None)
    if r.kind == "link" and pod:
        data["pod"] = pod
    reason = c.evidence[0] if c.evidence else "owned"
    return Action(
        i, phase, r.kind, r.key, c.target, reason, tuple(c.evidence), backup, data
    )


def fingerprint(fp: Footprint, claims: list[Claim]) -> str:
    facts = {k: sorted(f.values) for k, f in fp.facts.items() if f.values}
    body = {
        "cni": fp.cni,
        "facts": facts,
        "claims": [_identity(c) for c in claims],
        "left_alone": sorted(x.target for x in fp.left_alone),
        "unresolved": sorted(fp.unresolved),
    }
    blob = json.dumps(body, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()


def build_plan(inv: Inventory, policy: Policy) -> Plan:
    """Pure: match the footprint and order its claims into actions; the footprint's
    running agents become blockers."""
    spec = footprints.get(policy.cni)
    fp = spec.match(inv)
    fp.blockers[:0] = agent_blockers(inv, spec.agents)
    claims = sorted(fp.claims, key=_rank)
    return Plan(
        cni=policy.cni,
        actions=tuple(_action(i, c, fp) for i, c in enumerate(claims, 1)),
        left_alone=tuple((x.target, x.why) for x in fp.left_alone),
        attached_pods=tuple(fp.attached_pods),
        facts={k: f.to_json() for k, f in fp.facts.items()},
        warnings=tuple(fp.warnings),
        blockers=tuple(fp.blockers),
        fingerprint=fingerprint(fp, claims),
        allowed_dirs=tuple(fp.allowed_dirs),
        unresolved=tuple(fp.unresolved),
    )
