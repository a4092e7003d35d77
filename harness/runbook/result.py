"""What a validation found: the data the terminal summary, ``--json`` and the HTML
report are all rendered from (one model, three views).

A :class:`Validation` holds the run's setup, one :class:`StepResult` per step (per node:
exit code, output, duration, and what the step removed, destroyed or left), the final
:class:`~harness.runbook.classify.Delta` per node and for the cluster's API, the pod
sandbox outcomes with the runtime's exact messages, and the verdict.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from harness.actions.base import Run
from harness.runbook.classify import Delta
from harness.runbook.model import Runbook, Step
from harness.runbook.verdict import Verdict, headline

CLUSTER = "cluster (API)"  # the subject name of API-side objects


@dataclass
class PodEvent:
    """A kubelet event about a pod (``FailedCreatePodSandBox`` and the like)."""

    pod: str
    node: str
    type: str
    reason: str
    message: str
    count: int = 1

    def as_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class Expectation:
    what: str
    held: bool
    detail: str = ""

    def as_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class StepResult:
    step: Step
    status: str = "pending"  # ok | failed | tolerated | skipped
    started: float = 0.0  # seconds since the runbook started
    seconds: float = 0.0
    executions: list[Run] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    effects: dict[str, Delta] = field(default_factory=dict)  # subject -> what it did
    events: list[PodEvent] = field(default_factory=list)
    expectations: list[Expectation] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            **self.step.as_json(),
            "status": self.status,
            "started": round(self.started, 3),
            "seconds": round(self.seconds, 3),
            "executions": [e.as_json() for e in self.executions],
            "notes": [*self.step.notes, *self.notes],
            "effects": {k: v.as_json() for k, v in self.effects.items()},
            "pod_events": [e.as_json() for e in self.events],
            "expectations": [x.as_json() for x in self.expectations],
        }


@dataclass
class PodOutcome:
    """A pod at the end of the run: did it get a sandbox and an address?"""

    pod: str
    node: str
    phase: str
    ip: str
    message: str = ""  # the last sandbox event's message when it has none

    def as_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class Validation:
    runbook: Runbook
    setup: dict[str, Any]
    steps: list[StepResult] = field(default_factory=list)
    final: dict[str, Delta] = field(default_factory=dict)  # subject -> at the end
    cni_objects: dict[str, int] = field(default_factory=dict)  # subject -> |F - B|
    pods: list[PodOutcome] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    error: str = ""

    @property
    def expect_failed(self) -> bool:
        return any(not x.held for s in self.steps for x in s.expectations)

    @property
    def verdict(self) -> Verdict:
        if self.error:
            return Verdict.ERROR
        return Verdict.of(
            left=any(d.left for d in self.final.values()),
            destroyed=any(d.collateral for d in self.final.values()),
            expect_failed=self.expect_failed,
        )

    @property
    def headline(self) -> str:
        return headline(self.verdict)

    def totals(self) -> dict[str, int]:
        return {
            kind: sum(len(getattr(d, kind)) for d in self.final.values())
            for kind in ("removed", "left", "destroyed", "changed")
        }

    def as_json(self) -> dict[str, Any]:
        code = int(self.verdict)
        return {
            "verdict": self.headline,
            "exit_code": code,
            "failing_verdicts": Verdict.decode(code),
            "error": self.error or None,
            "runbook": self.runbook.as_json(),
            "setup": self.setup,
            "totals": self.totals(),
            "cni_objects": self.cni_objects,
            "final": {k: v.as_json() for k, v in self.final.items()},
            "steps": [s.as_json() for s in self.steps],
            "pods": [p.as_json() for p in self.pods],
            "timings": {k: round(v, 3) for k, v in self.timings.items()},
        }
