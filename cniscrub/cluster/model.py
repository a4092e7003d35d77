"""The data ``cniscrub cluster`` passes between its layers: what was found in the
cluster (:class:`ClusterState`), the ordered plan (:class:`ClusterPlan` of
:class:`Step`\\s, each carrying the exact :class:`ApiCall`\\s it makes), and what
happened on each node (:class:`NodeResult`).

A plan's calls are what ``apply`` sends, what ``--dry-run`` prints and what the JSON
document lists: one source for all three.

>>> ApiCall("DELETE", "/api/v1/namespaces/x", (("propagationPolicy", "Background"),)).line()
'DELETE /api/v1/namespaces/x?propagationPolicy=Background'
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import urlencode

__all__ = [
    "BACKGROUND",
    "JSON_PATCH",
    "MERGE_PATCH",
    "AgentPod",
    "ApiCall",
    "ClusterPlan",
    "ClusterState",
    "Found",
    "NextCni",
    "NodeResult",
    "NodeState",
    "Step",
]


BACKGROUND = (("propagationPolicy", "Background"),)  # dependents go after the owner
MERGE_PATCH = "application/merge-patch+json"
JSON_PATCH = "application/json-patch+json"


@dataclass(frozen=True)
class ApiCall:
    """One request to the API server."""

    method: str
    path: str
    query: tuple[tuple[str, str], ...] = ()
    body: Any = None
    content_type: str | None = None

    def url(self) -> str:
        return f"{self.path}?{urlencode(self.query)}" if self.query else self.path

    def line(self) -> str:
        """How ``--dry-run`` prints it: method, path and query, compact body."""
        text = f"{self.method} {self.url()}"
        if self.body is not None:
            text += " " + json.dumps(self.body, separators=(",", ":"), sort_keys=True)
        return text

    def to_json(self) -> dict[str, Any]:
        return {"method": self.method, "path": self.url(), "body": self.body}


@dataclass(frozen=True)
class Found:
    """One of the CNI's API objects, with why it is the CNI's."""

    kind: str
    name: str
    namespace: str | None
    uid: str
    evidence: tuple[str, ...]

    @property
    def ref(self) -> str:
        where = f"{self.namespace}/" if self.namespace else ""
        return f"{self.kind} {where}{self.name}"


@dataclass(frozen=True)
class AgentPod:
    """A pod of the CNI's agent, and the node it runs on."""

    namespace: str
    name: str
    node: str
    phase: str
    terminating: bool
    owner: str | None  # "DaemonSet kube-flannel/kube-flannel-ds", or None (orphan)

    @property
    def ref(self) -> str:
        return f"{self.namespace}/{self.name}"


@dataclass(frozen=True)
class NodeState:
    """One node as the API shows it, with what of the CNI it carries."""

    name: str
    ready: str  # "True" | "False" | "Unknown" | "" (no Ready condition yet)
    ready_reason: str
    annotations: tuple[str, ...]  # the CNI's annotation keys
    condition: dict[str, Any] | None  # the CNI's own condition, if set
    kept_condition: dict[str, Any] | None = None  # same type, another reason: kept
    condition_index: int | None = None  # where the CNI's sits in status.conditions

    @property
    def reachable(self) -> bool:
        """False when the node controller marked it Unknown (its kubelet stopped
        posting status): nothing can run there until it is back. Ready=False (e.g.
        network plugin not ready, as after a cleanup) still runs host-network pods."""
        return self.ready != "Unknown"


@dataclass(frozen=True)
class NextCni:
    """A CNI other than the one being removed, installed or being installed."""

    name: str  # a footprint's name, or "unknown"
    object: str
    evidence: str


@dataclass
class ClusterState:
    """Everything ``plan`` read from the API."""

    cni: str
    server: str
    objects: list[Found] = field(default_factory=list)
    pods: list[AgentPod] = field(default_factory=list)
    nodes: list[NodeState] = field(default_factory=list)
    foreign: dict[str, list[str]] = field(default_factory=dict)  # ns -> others' objects
    namespace_labels: dict[str, dict[str, str]] = field(default_factory=dict)
    next_cni: list[NextCni] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Step:
    """One step of the plan, in execution order."""

    id: int
    kind: str  # delete | wait-pods | run-jobs | clean-node
    target: str
    why: tuple[str, ...]
    calls: tuple[ApiCall, ...] = ()
    data: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "target": self.target,
            "why": list(self.why),
            "calls": [c.to_json() for c in self.calls],
            "data": self.data,
        }


@dataclass
class ClusterPlan:
    """The ordered steps, the nodes the cleaner Job runs on, and what is left alone."""

    state: ClusterState
    steps: list[Step] = field(default_factory=list)
    job_nodes: list[str] = field(default_factory=list)
    unreachable: list[str] = field(default_factory=list)
    left_alone: list[dict[str, str]] = field(default_factory=list)

    @property
    def api_pending(self) -> bool:
        """True when the API side still holds something of the CNI."""
        return any(s.kind != "run-jobs" for s in self.steps)

    def step(self, kind: str) -> list[Step]:
        return [s for s in self.steps if s.kind == kind]


@dataclass
class NodeResult:
    """What happened on one node: the verdict and the node's own report."""

    node: str
    # clean | pending | residue | partial | refused | failed | unreachable | timeout
    verdict: str
    exit_code: int | None = None
    job: str | None = None
    pod: str | None = None
    seconds: float | None = None
    message: str = ""
    report: dict[str, Any] | None = None
    counts: dict[str, int] = field(default_factory=dict)
    journal: str | None = None

    @property
    def clean(self) -> bool:
        return self.verdict == "clean"

    def to_json(self) -> dict[str, Any]:
        return asdict(self)
