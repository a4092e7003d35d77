"""What a footprint matcher returns: proven facts, claims with evidence, left-alone.

>>> f = Fact("network4")
>>> f.add("10.244.0.0/16", "subnet.env FLANNEL_NETWORK", "subnet.env")
>>> f.values, f.proven, f.corroborated
(['10.244.0.0/16'], True, False)
>>> f.add("10.244.0.0/16", "nat rule #3", "iptables rules"); f.corroborated
True
>>> f.reject("10.244.0.0/16", "conflicts"); (f.values, f.rejected)
([], {'10.244.0.0/16': 'conflicts'})
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cniscrub.inventory.model import Resource


@dataclass
class Fact:
    """A value about the node (e.g. the cluster network), every source showing it,
    the kind of each source (independent kinds corroborate each other), and the
    values a cross-check rejected, with why."""

    name: str
    values: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    kinds: dict[str, set[str]] = field(default_factory=dict)  # value -> source kinds
    rejected: dict[str, str] = field(default_factory=dict)  # value -> why

    def add(self, value: str, source: str, kind: str = "") -> None:
        if value not in self.values:
            self.values.append(value)
        self.sources.append(f"{value} from {source}")
        self.kinds.setdefault(value, set()).add(kind or source)

    def reject(self, value: str, why: str) -> None:
        """Drop ``value`` (a cross-check found it wrong or unsafe to use)."""
        if value in self.values:
            self.values.remove(value)
            self.rejected[value] = why

    @property
    def proven(self) -> bool:
        return bool(self.values)

    @property
    def corroborated(self) -> bool:
        """Shown by at least two independent kinds of source."""
        return len(set().union(*(self.kinds.get(v, set()) for v in self.values))) >= 2

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "values": list(self.values),
            "sources": self.sources,
            "rejected": [f"{v}: {why}" for v, why in self.rejected.items()],
        }


@dataclass
class Claim:
    """A resource the footprint owns: the label naming it for people (``target``,
    e.g. ``chain FLANNEL-FWD (filter, nft backend, IPv4)``), the evidence that it is
    the CNI's, and the objects that go with it."""

    resource: Resource
    target: str
    evidence: list[str]
    covers: list[Resource] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)  # more data for the backup


@dataclass
class LeftAlone:
    """Something that looks related but is not (provably) the CNI's, and why."""

    target: str
    why: str


@dataclass
class Footprint:
    """Everything a footprint matcher concluded about one inventory."""

    cni: str
    facts: dict[str, Fact] = field(default_factory=dict)
    claims: list[Claim] = field(default_factory=list)
    left_alone: list[LeftAlone] = field(default_factory=list)
    attached_pods: list[dict[str, Any]] = field(default_factory=list)
    blockers: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    # the only directories apply may remove (rmdir, never recursive), as decided here
    allowed_dirs: list[str] = field(default_factory=list)
    # residue the CNI may still have that cniscrub cannot remove or could not inspect:
    # verify is never clean while any is listed
    unresolved: list[str] = field(default_factory=list)

    def fact(self, name: str) -> Fact:
        return self.facts.setdefault(name, Fact(name))
