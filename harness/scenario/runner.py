"""Run a scenario's steps in order on a cluster, recording each step's outcome and time;
when a step fails, stop and report it with the state diff an operator reads without
opening logs.

The run's :class:`~harness.actions.base.Context` is built once: the foreign baseline
on every node (unless the scenario turns it off), then a snapshot labelled ``start``.
After the last step, an implicit ``expect: {baseline_intact: true}`` checks that every
foreign object is still there. A failure raises :class:`ScenarioFailed`, whose text is
the step list (✓ / ✗ / ·), the error, the fact the step cites, and the per-node state
diff since the latest snapshot (``start`` unless a ``snapshot`` step came later).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field

from harness.actions import run_action
from harness.actions.cluster import put_baseline, take_snapshot
from harness.actions.context import Context, ExpectationFailed, Log
from harness.providers.base import Cluster
from harness.scenario.model import Scenario, Step
from harness.snapshot.state import diff, snapshot_cluster

START = "start"


@dataclass
class Outcome:
    step: Step
    status: str  # passed | failed | not run
    seconds: float = 0.0
    error: str = ""

    def line(self) -> str:
        mark = {"passed": "✓", "failed": "✗"}.get(self.status, "·")
        took = f"{self.seconds:6.1f}s" if self.status != "not run" else "not run"
        return f"  {mark} {self.step.number:2d} {self.step.label:<64} {took}"


@dataclass
class ScenarioFailed(AssertionError):
    """A step failed; ``str()`` is the whole operator-facing report."""

    scenario: Scenario
    variant: str
    outcomes: list[Outcome]
    failed: Outcome
    state_diff: str = ""
    reference: str = START
    notes: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        step = self.failed.step
        head = (
            f"scenario {self.scenario.name}[{self.variant}] failed at step {step.number} "
            f"({step.action}), {self.scenario.path}:{step.line}"
        )
        parts = [head, f"  {self.failed.error}".replace("\n", "\n  ")]
        if step.fact:
            parts.append(f"  fact: {step.fact}")
        parts += ["", "steps:", *(o.line() for o in self.outcomes)]
        parts += ["", f'state diff since snapshot "{self.reference}":', self.state_diff]
        return "\n".join(parts + self.notes)


def implicit_steps(scenario: Scenario) -> list[Step]:
    """What every scenario checks after its last step."""
    if not scenario.baseline.enabled:
        return []
    return [
        Step(
            len(scenario.steps) + 1,
            "expect",
            {"baseline_intact": True},
            line=scenario.line,
            name="(implicit) expect: baseline_intact",
            fact="the foreign baseline must survive every scenario (issue 10 §5)",
        )
    ]


def context(
    cluster: Cluster, scenario: Scenario, params: Mapping[str, str], log: Log
) -> Context:
    """The run's context, with the baseline in place and the ``start`` snapshot."""
    ctx = Context(cluster=cluster, params=dict(params), source=scenario.path, log=log)
    if scenario.baseline.enabled:
        b = scenario.baseline
        put_baseline(ctx, b.script, b.podman_dir, b.changes)
    take_snapshot(ctx, START)
    return ctx


def run(ctx: Context, scenario: Scenario, variant: str) -> list[Outcome]:
    """Every step, then the implicit ones; raises ScenarioFailed at the first failure."""
    steps = [*scenario.steps, *implicit_steps(scenario)]
    outcomes = [Outcome(s, "not run") for s in steps]
    for outcome in outcomes:
        started = time.monotonic()
        try:
            run_action(ctx, outcome.step.action, ctx.substitute(outcome.step.args))
        except Exception as exc:
            outcome.status, outcome.seconds = "failed", time.monotonic() - started
            outcome.error = _describe(exc)
            raise _failure(ctx, scenario, variant, outcomes, outcome) from exc
        outcome.status, outcome.seconds = "passed", time.monotonic() - started
        ctx.log(outcome.line())
    return outcomes


def _describe(exc: BaseException) -> str:
    if isinstance(exc, ExpectationFailed | AssertionError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


def _failure(
    ctx: Context,
    scenario: Scenario,
    variant: str,
    outcomes: list[Outcome],
    failed: Outcome,
) -> ScenarioFailed:
    reference = next(reversed(ctx.snapshots)) if ctx.snapshots else ""
    text = ""
    if reference:
        try:
            now = snapshot_cluster(
                ctx.cluster, api=ctx.snapshots[reference].api is not None
            )
            text = diff(ctx.snapshots[reference], now).text()
        except Exception as exc:  # the report must not hide the step's own error
            text = f"(state could not be read: {type(exc).__name__}: {exc})"
    return ScenarioFailed(scenario, variant, outcomes, failed, text, reference)
