"""Benchmark: ``cniscrub-lab validate`` of the article's runbook on 3 nodes, end to end,
and the share of it spent taking snapshots (issue 11: target < 20 s, snapshots < 10 %).

Printed as a table, never asserted. Needs root (sandbox clusters).

    python bench/bench_validate.py [--runs 3] [--nodes 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

from harness.runbook import loader, runner
from harness.runbook.model import Step
from harness.runbook.result import StepResult

ROOT = Path(__file__).resolve().parent.parent
ARTICLE = ROOT / "fixtures" / "runbooks" / "article-runbook.sh"


class Quiet:
    def phase(self, what: str) -> None: ...
    def phase_done(self, what: str, seconds: float) -> None: ...
    def step_started(self, step: Step) -> None: ...
    def step_done(self, result: StepResult) -> None: ...


def one(nodes: int) -> dict[str, float]:
    start = time.perf_counter()
    snapshots = 0.0
    looks = 0
    original = runner.observe.Observer.look

    def timed_look(self: runner.observe.Observer) -> runner.observe.Look:
        nonlocal snapshots, looks
        looks += 1
        t = time.perf_counter()
        try:
            return original(self)
        finally:
            snapshots += time.perf_counter() - t

    runner.observe.Observer.look = timed_look  # type: ignore[method-assign]
    try:
        v = runner.validate(
            loader.load(ARTICLE),
            runner.Options(nodes=nodes, name=f"bench-validate-{os.getpid()}"),
            Quiet(),
        )
    finally:
        runner.observe.Observer.look = original  # type: ignore[method-assign]
    total = time.perf_counter() - start
    steps = sum(s.seconds for s in v.steps)
    return {
        "total": total,
        "snapshots": snapshots,
        "looks": float(looks),
        "steps": steps,
        **v.timings,
        "exit": float(int(v.verdict)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--nodes", type=int, default=3)
    args = parser.parse_args()
    runs = [one(args.nodes) for _ in range(args.runs)]
    keys = (
        "total",
        "cluster",
        "baseline",
        "flannel",
        "steps",
        "snapshots",
        "probes",
        "teardown",
    )
    print(
        f"\ncniscrub-lab validate article-runbook.sh, {args.nodes} nodes, {args.runs} runs "
        f"(exit {int(runs[0]['exit'])})"
    )
    print(f"{'phase':<12}{'median s':>10}{'min s':>10}{'max s':>10}")
    for key in keys:
        values = [r.get(key, 0.0) for r in runs]
        print(
            f"{key:<12}{statistics.median(values):>10.2f}{min(values):>10.2f}{max(values):>10.2f}"
        )
    per_look = statistics.median(r["snapshots"] / max(r["looks"], 1) for r in runs)
    print(
        f"looks: {int(runs[0]['looks'])} per run (every node and the API), "
        f"{per_look * 1000:.0f} ms each (median)"
    )
    share = statistics.median(r["snapshots"] / r["total"] for r in runs)
    print(
        f"snapshots: {share:.1%} of the end-to-end time (target < 10 %); "
        f"end to end target < 20 s"
    )


if __name__ == "__main__":
    main()
