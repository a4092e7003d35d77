"""Data types of the inventory layer: a :class:`Resource` per object found on the node.

A resource is plain data (JSON-able) so parsers are pure and golden-testable:

>>> r = Resource("link", "flannel.1", {"name": "flannel.1", "kind": "vxlan"})
>>> r.to_json()["key"]
'flannel.1'
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

KINDS = (
    "file",
    "link",
    "address",
    "route",
    "neighbour",
    "fdb",
    "ipt_chain",
    "ipt_rule",
    "nft_table",
    "process",
    "netns",
    "ip_rule",
    "ipset",
)


@dataclass(frozen=True)
class Resource:
    """One object on the node: ``kind`` (see :data:`KINDS`), a unique ``key``, data."""

    kind: str
    key: str
    data: Mapping[str, Any] = field(default_factory=dict, hash=False)

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "key": self.key, "data": dict(self.data)}

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> Resource:
        return cls(str(obj["kind"]), str(obj["key"]), dict(obj.get("data", {})))


@dataclass
class Inventory:
    """Everything collected from one node, by kind, plus notes on what was not read."""

    resources: dict[str, list[Resource]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def of(self, kind: str) -> list[Resource]:
        return self.resources.get(kind, [])

    def add(self, items: Iterable[Resource]) -> None:
        for item in items:
            self.resources.setdefault(item.kind, []).append(item)

    def to_json(self) -> dict[str, Any]:
        return {
            "resources": {
                k: [r.to_json() for r in v] for k, v in self.resources.items()
            },
            "notes": list(self.notes),
        }

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> Inventory:
        inv = cls(notes=list(obj.get("notes", [])))
        for items in obj.get("resources", {}).values():
            inv.add(Resource.from_json(i) for i in items)
        return inv
