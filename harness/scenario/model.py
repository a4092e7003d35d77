"""What a scenario is once loaded: the story's name and description, its tags, the
clusters it runs on (matrix, cluster shape, baseline) and its ordered steps, each one
action with its argument, the line it came from and the fact it cites.

>>> s = Step(3, "reboot", "worker", line=12)
>>> s.label
'reboot: worker'
>>> Step(4, "expect", {"no_residue": "flannel", "baseline_intact": True}, 14).label
'expect: no_residue, baseline_intact'
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Step:
    number: int  # 1-based, as reports show it
    action: str
    args: Any
    line: int
    name: str = ""
    fact: str = ""

    @property
    def label(self) -> str:
        if self.name:
            return self.name
        if self.action == "expect" and isinstance(self.args, dict):
            return f"expect: {', '.join(self.args)}"
        if isinstance(self.args, str):
            lines = self.args.strip().splitlines()
            shown = lines[0] + (" …" if len(lines) > 1 else "")
        elif self.args is None:
            return self.action
        else:
            shown = json.dumps(self.args, separators=(",", ":"))
        shown = " ".join(shown.split())
        return f"{self.action}: {shown[:70]}{'…' if len(shown) > 70 else ''}"


@dataclass(frozen=True)
class Baseline:
    """The foreign state put on every node before the first step."""

    enabled: bool = True
    podman_dir: str | None = None  # None: podman's default (/etc/cni/net.d)
    script: str = ""  # the author's own additions, run with bash on every node
    changes: tuple[str, ...] = ()  # regexes of foreign objects the story changes


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    path: Path
    steps: tuple[Step, ...]
    tags: tuple[str, ...] = ()
    flannel_versions: tuple[str, ...] = ()
    runtimes: tuple[str, ...] = ()
    providers: tuple[str, ...] = ("sandbox", "kind")
    nodes: int = 2
    cni_bin_set: str = "full"
    node_monitor_grace_period: float | None = None
    baseline: Baseline = field(default_factory=Baseline)
    line: int = 1  # where the scenario starts (its name)
