"""What every action shares: the record of one command it ran (:class:`Run`), its
result (:class:`ActionResult`), node selection and running on nodes in parallel.

>>> Run("lab-worker", 1, "", "boom\\n", 0.1).output
'boom'
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from harness.providers.base import Cluster, Node

NodeSelector = str | Sequence[str]  # all | workers | control-plane | node names


class ActionError(ValueError):
    """The action cannot be done as asked (unknown node, missing manifest, …)."""


@dataclass
class Run:
    """One command an action ran: where (a node's name or ``cluster``), its exit code,
    its output, how long it took, and anything worth saying about how it ran."""

    where: str
    rc: int
    stdout: str
    stderr: str
    seconds: float
    note: str = ""

    @property
    def ok(self) -> bool:
        return self.rc == 0

    @property
    def output(self) -> str:
        return "\n".join(
            t.rstrip("\n") for t in (self.stdout, self.stderr) if t.strip()
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "where": self.where,
            "rc": self.rc,
            "output": self.output,
            "seconds": round(self.seconds, 3),
            "note": self.note or None,
        }


@dataclass
class ActionResult:
    runs: list[Run] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    failure: str = ""  # why the action failed when no run says it

    @property
    def ok(self) -> bool:
        return not self.failure and all(r.ok for r in self.runs)


def select(cluster: Cluster, nodes: NodeSelector = "all") -> list[Node]:
    """The nodes a selector names: ``all``, ``workers``, ``control-plane`` or a list of
    full (``lab-worker2``) or short (``worker2``) names."""
    if nodes == "all":
        return list(cluster.nodes)
    if nodes in ("workers", "control-plane"):
        role = "worker" if nodes == "workers" else "control-plane"
        return [n for n in cluster.nodes if n.role == role]
    names = [nodes] if isinstance(nodes, str) else list(nodes)
    chosen = []
    for name in names:
        full = name if name.startswith(f"{cluster.name}-") else f"{cluster.name}-{name}"
        match = [n for n in cluster.nodes if n.name in (name, full)]
        if not match:
            have = ", ".join(n.name for n in cluster.nodes)
            raise ActionError(
                f"no node {name!r} in cluster {cluster.name} (nodes: {have})"
            )
        chosen.append(match[0])
    return chosen


def on_nodes(nodes: Sequence[Node], fn: Callable[[Node], Run]) -> list[Run]:
    """``fn`` on every node at once (threads; each node's work is a subprocess)."""
    if len(nodes) <= 1:
        return [fn(n) for n in nodes]
    with ThreadPoolExecutor(max_workers=len(nodes)) as pool:
        return list(pool.map(fn, nodes))


def timed(where: str, fn: Callable[[], tuple[int, str, str]], note: str = "") -> Run:
    start = time.perf_counter()
    rc, out, err = fn()
    return Run(where, rc, out, err, time.perf_counter() - start, note)
