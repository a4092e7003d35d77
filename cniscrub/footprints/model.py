"""What a footprint matcher returns: proven facts, claims with evidence, left-alone.

>>> f = Fact("network4")
>>> f.add("10.244.0.0/16", "subnet.env FLANNEL_NETWORK")
>>> f.values, f.proven
(['10.244.0.0/16'], True)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cniscrub.inventory.model import Resource


@dataclass
class Fact:
    """A value about the node (e.g. the cluster network) and every source showing it."""

    name: str
    values: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)

    def add(self, value: str, source: str) -> None:
        if value not in self.values:
            self.values.append(value)
        self.sources.append(f"{value} from {source}")

    @property
    def proven(self) -> bool:
        return bool(self.values)

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "values": list(self.values), "sources": self.sources}


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

    def fact(self, name: str) -> Fact:
        return self.facts.setdefault(name, Fact(name))
