"""Carry out a cluster plan: send each step's requests in order, wait (bounded, with
progress) until the agent's pods are gone, run the node cleaner Jobs, and take the
CNI's annotations and condition off every node.

An object already gone is ``noop`` (a re-run converges); a failed request is recorded
and the run goes on with what does not depend on it. If the agent's pods do not stop
within ``--timeout``, no node Job starts (the cleaner would refuse anyway while the
agent runs) and the nodes are reported ``skipped``.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

from cniscrub.cluster.api import Api
from cniscrub.cluster.discover import find_pods, node_state
from cniscrub.cluster.errors import ApiFailure, NotFound
from cniscrub.cluster.model import ClusterPlan, NodeResult, Step
from cniscrub.cluster.planner import node_calls
from cniscrub.cluster.progress import Progress
from cniscrub.cluster.runner import JobRunner, jobs_by_node
from cniscrub.footprints.spec import ClusterFootprint, FootprintSpec

log = logging.getLogger(__name__)
POLL = 0.5


@dataclass
class StepResult:
    id: int
    status: str  # done | noop | failed | skipped
    error: str | None = None
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "status": self.status,
            "error": self.error,
            "seconds": self.seconds,
        }


@dataclass
class Outcome:
    """What a run did: per step, per node, and what is left for a re-run."""

    steps: list[StepResult] = field(default_factory=list)
    nodes: list[NodeResult] = field(default_factory=list)
    waited_out: list[str] = field(default_factory=list)  # pods that did not go

    @property
    def api_ok(self) -> bool:
        return all(s.status in ("done", "noop") for s in self.steps)

    @property
    def clean(self) -> bool:
        return self.api_ok and all(n.clean for n in self.nodes)


def node_readiness(api: Api) -> dict[str, str]:
    """Every node's Ready status ("True", "False", "Unknown")."""
    out = {}
    for node in api.list("Node"):
        conditions = (node.get("status") or {}).get("conditions") or []
        ready: dict[str, Any] = next(
            (c for c in conditions if c.get("type") == "Ready"), {}
        )
        out[node["metadata"]["name"]] = str(ready.get("status") or "Unknown")
    return out


class Executor:
    def __init__(
        self,
        api: Api,
        plan: ClusterPlan,
        spec: FootprintSpec,
        progress: Progress,
        *,
        parallel: int,
        timeout: float,
        keep_jobs: bool,
        run_id: str,
        namespace: str,
        command: str = "apply",
    ) -> None:
        self.api, self.plan, self.spec, self.progress = api, plan, spec, progress
        self.parallel, self.timeout, self.keep_jobs = parallel, timeout, keep_jobs
        self.run_id, self.namespace, self.command = run_id, namespace, command
        self.outcome = Outcome()

    def run(self) -> Outcome:
        blocked = False
        for step in self.plan.steps:
            started = time.monotonic()
            if step.kind == "wait-pods":
                result = self._wait(step)
                blocked = result.status != "done"
            elif step.kind == "run-jobs":
                result = self._skip(step) if blocked else self._jobs(step)
            elif step.kind == "clean-node":
                result = self._clean_node(step)
            else:
                result = self._send(step)
            result.seconds = round(time.monotonic() - started, 3)
            self.outcome.steps.append(result)
        for node in self.plan.unreachable:  # reported, never silently skipped
            self.outcome.nodes.append(
                NodeResult(
                    node,
                    "unreachable",
                    message="Ready=Unknown (its kubelet stopped posting status): "
                    "no Job started; re-run when it is back",
                )
            )
        return self.outcome

    def _send(self, step: Step) -> StepResult:
        self.progress.phase(f"{step.kind} {step.target}")
        status = "noop"
        for call in step.calls:
            try:
                self.api.request(call)
                status = "done"
            except NotFound:
                pass
            except ApiFailure as exc:
                return StepResult(step.id, "failed", str(exc))
        return StepResult(step.id, status)

    def _wait(self, step: Step) -> StepResult:
        objects = self.plan.state.objects
        deadline = time.monotonic() + self.timeout
        total = len(step.data.get("pods") or [])
        while True:
            ready = node_readiness(self.api)
            pods = find_pods(self.api, self.spec, objects)
            stuck = [p for p in pods if ready.get(p.node, "Unknown") == "Unknown"]
            live = [p for p in pods if p not in stuck]
            self.progress.waiting(
                len(live), total, f"pods of {self.spec.title}'s agent to stop"
            )
            if not live:
                self.outcome.waited_out = [
                    f"{p.ref} on {p.node} (unreachable)" for p in stuck
                ]
                return StepResult(step.id, "done")
            if time.monotonic() > deadline:
                self.outcome.waited_out = [f"{p.ref} on {p.node}" for p in live]
                return StepResult(
                    step.id,
                    "failed",
                    f"{len(live)} pod(s) still there after {self.timeout:g} s: "
                    + ", ".join(self.outcome.waited_out),
                )
            time.sleep(POLL)

    def _skip(self, step: Step) -> StepResult:
        for node in step.data.get("nodes") or []:
            self.outcome.nodes.append(
                NodeResult(
                    node,
                    "skipped",
                    message="the agent's pods did not stop; no Job started",
                )
            )
        return StepResult(step.id, "skipped", "the agent's pods did not stop")

    def _jobs(self, step: Step) -> StepResult:
        nodes = list(step.data.get("nodes") or [])
        self.progress.jobs(len(nodes), self.command)
        runner = JobRunner(
            self.api,
            jobs_by_node(step.calls),
            command=self.command,
            parallel=self.parallel,
            timeout=self.timeout,
            keep_jobs=self.keep_jobs,
            progress=self.progress,
            ready=lambda: node_readiness(self.api),
        )
        self.outcome.nodes.extend(runner.run(nodes, self.run_id, self.namespace))
        return StepResult(step.id, "done")

    def _clean_node(self, step: Step) -> StepResult:
        """The node's patches, made from the node as it is now (the condition's
        place in the list may have moved since the plan)."""
        name = str(step.data["node"])
        self.progress.phase(f"clean-node {name}")
        try:
            node = self.api.find("Node", name)
            if node is None:
                return StepResult(step.id, "noop")
            calls = node_calls(
                node_state(node, self.spec.cluster or ClusterFootprint())
            )
            for call in calls:
                self.api.request(call)
        except ApiFailure as exc:
            return StepResult(step.id, "failed", str(exc))
        return StepResult(step.id, "done" if calls else "noop")
