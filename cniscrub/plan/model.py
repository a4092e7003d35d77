"""A plan: frozen actions, each with target, reason, evidence and what its backup holds.

Plans are artifacts (``plan --out plan.json`` / ``apply plan.json``); the JSON form is
documented in ``docs/cniscrub-json-schema.md``.

>>> a = Action(1, "netfilter", "ipt_chain", "nft:4:filter:FLANNEL-FWD",
...            "chain FLANNEL-FWD (filter)", "owned", ("e",), "rules")
>>> Action.from_json(a.to_json()) == a
True
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

PHASES = ("netfilter", "routes", "links", "files")
SCHEMA = "cniscrub/plan/v1"


@dataclass(frozen=True)
class Action:
    """Delete one object. ``data`` holds the resource and what goes with it."""

    id: int
    phase: str
    kind: str
    key: str
    target: str
    reason: str
    evidence: tuple[str, ...]
    backup: str
    data: Mapping[str, Any] = field(default_factory=dict, compare=False, hash=False)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "phase": self.phase,
            "kind": self.kind,
            "key": self.key,
            "target": self.target,
            "reason": self.reason,
            "evidence": list(self.evidence),
            "backup": self.backup,
            "data": dict(self.data),
        }

    @classmethod
    def from_json(cls, o: Mapping[str, Any]) -> Action:
        return cls(
            int(o["id"]),
            o["phase"],
            o["kind"],
            o["key"],
            o["target"],
            o["reason"],
            tuple(o["evidence"]),
            o["backup"],
            dict(o.get("data", {})),
        )


@dataclass(frozen=True)
class Plan:
    """Ordered actions, what was left alone, the facts used and their fingerprint."""

    cni: str
    actions: tuple[Action, ...]
    left_alone: tuple[tuple[str, str], ...]
    attached_pods: tuple[Mapping[str, Any], ...]
    facts: Mapping[str, Any]
    warnings: tuple[str, ...]
    blockers: tuple[str, ...]
    fingerprint: str
    allowed_dirs: tuple[str, ...] = ()  # the only directories apply may rmdir
    unresolved: tuple[str, ...] = ()  # residue it cannot remove or could not inspect

    @property
    def plan_id(self) -> str:
        return self.fingerprint[:12]

    @property
    def empty(self) -> bool:
        return not self.actions

    @property
    def clean(self) -> bool:
        """Nothing to remove and nothing unresolved: the node is clean."""
        return not self.actions and not self.unresolved

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "cni": self.cni,
            "plan_id": self.plan_id,
            "fingerprint": self.fingerprint,
            "actions": [a.to_json() for a in self.actions],
            "left_alone": [{"target": t, "why": w} for t, w in self.left_alone],
            "attached_pods": [dict(p) for p in self.attached_pods],
            "facts": dict(self.facts),
            "warnings": list(self.warnings),
            "blockers": list(self.blockers),
            "allowed_dirs": list(self.allowed_dirs),
            "unresolved": list(self.unresolved),
        }

    @classmethod
    def from_json(cls, o: Mapping[str, Any]) -> Plan:
        return cls(
            o["cni"],
            tuple(Action.from_json(a) for a in o["actions"]),
            tuple((x["target"], x["why"]) for x in o["left_alone"]),
            tuple(o.get("attached_pods", [])),
            dict(o["facts"]),
            tuple(o.get("warnings", [])),
            tuple(o.get("blockers", [])),
            o["fingerprint"],
            tuple(o.get("allowed_dirs", [])),
            tuple(o.get("unresolved", [])),
        )
