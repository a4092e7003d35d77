"""What a runbook is once loaded: ordered steps, each of one kind, with its arguments
normalised, the line it came from and what a failure of it does to the run.

Both sources (the YAML format, a plain shell script) load into these classes, so the
runner and the report know only one shape.

>>> s = Step(1, "shell", {"script": "ls"}, line=3, source="ls")
>>> s.label
'shell: ls'
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

KINDS = ("kubectl", "shell", "cniscrub", "reboot", "install", "wait", "expect")
NODE_KINDS = ("shell", "cniscrub", "reboot")  # kinds that run on (selected) nodes
Nodes = str | tuple[str, ...]  # "all", "workers", "control-plane" or node names


@dataclass(frozen=True)
class Step:
    number: int  # 1-based, as the report shows it
    kind: str
    params: dict[str, Any]
    line: int  # first line in the runbook file
    source: str = ""  # the text as written (shell lines, or the YAML value)
    name: str = ""
    nodes: Nodes = "all"
    on_failure: str = "continue"  # continue | stop
    timeout: float | None = None
    notes: tuple[str, ...] = ()  # what the report should say about how it ran

    @property
    def label(self) -> str:
        if self.name:
            return self.name
        first = self.source.strip().splitlines()[0] if self.source.strip() else ""
        more = " …" if "\n" in self.source.strip() else ""
        if not first:
            return self.kind
        if first.split()[0] == self.kind:  # "kubectl delete -f …" says its kind
            return f"{first}{more}"
        return f"{self.kind}: {first}{more}"

    def as_json(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "kind": self.kind,
            "name": self.name or None,
            "label": self.label,
            "line": self.line,
            "source": self.source,
            "params": self.params,
            "nodes": self.nodes if isinstance(self.nodes, str) else list(self.nodes),
            "on_failure": self.on_failure,
            "notes": list(self.notes),
        }


@dataclass(frozen=True)
class Runbook:
    path: Path
    format: str  # "yaml" | "shell"
    steps: tuple[Step, ...]
    name: str = ""
    description: str = ""
    notes: tuple[str, ...] = field(default=())

    def as_json(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "format": self.format,
            "name": self.name,
            "description": self.description,
            "notes": list(self.notes),
            "steps": [s.as_json() for s in self.steps],
        }
