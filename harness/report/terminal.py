"""The terminal side of a runbook validation: live progress on stderr (a spinner per
phase and step on a terminal, plain lines in logs) and the final summary on stdout
(``rich`` tables: per node what is left and what was destroyed, failed steps, pods).
"""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.status import Status

from harness.runbook.classify import Delta
from harness.runbook.model import Step
from harness.runbook.result import StepResult, Validation
from harness.runbook.verdict import Verdict

MARKS = {
    "ok": "[green]✓[/]",
    "tolerated": "[yellow]✓[/]",
    "failed": "[red]✗[/]",
    "skipped": "[dim]-[/]",
}


class LiveProgress:
    """Implements :class:`harness.runbook.runner.Progress` on a console."""

    def __init__(self, console: Console | None = None) -> None:
        self.console = console or Console(stderr=True, highlight=False, soft_wrap=True)
        self._status: Status | None = None

    def _start(self, text: str) -> None:
        if self.console.is_terminal:
            self._status = self.console.status(text)
            self._status.start()
        else:
            self.console.print(f" • {text} …", markup=False)

    def _stop(self) -> None:
        if self._status is not None:
            self._status.stop()
            self._status = None

    def phase(self, what: str) -> None:
        self._start(what)

    def phase_done(self, what: str, seconds: float) -> None:
        self._stop()
        self.console.print(f" [green]✓[/] {_esc(what)} ({seconds:.1f}s)")

    def step_started(self, step: Step) -> None:
        self._start(f"step {step.number} (line {step.line}): {step.label}")

    def step_done(self, result: StepResult) -> None:
        self._stop()
        s = result.step
        mark = MARKS.get(result.status, "?")
        line = f" {mark} step {s.number} (line {s.line}) {_esc(s.label)}"
        if result.status == "skipped":
            self.console.print(
                f"{line} [dim]skipped: an earlier step failed and the runbook stops[/]"
            )
            return
        self.console.print(f"{line} ({result.seconds:.1f}s){_effects(result)}")
        for run in result.executions:
            if not run.ok:
                first = (run.output.strip().splitlines() or [""])[-1]
                self.console.print(
                    f"     [red]{run.where}: exit {run.rc}[/] {_esc(first)}"
                )
        for x in result.expectations:
            if not x.held:
                self.console.print(
                    f"     [red]expectation failed:[/] {_esc(x.what)}: {_esc(x.detail)}"
                )


def _effects(result: StepResult) -> str:
    removed = sum(len(d.removed) for d in result.effects.values())
    destroyed = sum(len(d.destroyed) + len(d.changed) for d in result.effects.values())
    back = sum(len(d.left) for d in result.effects.values())
    parts = [
        f"-{removed} Flannel" if removed else "",
        f"[red]{destroyed} foreign destroyed[/]" if destroyed else "",
        f"+{back} Flannel back" if back else "",
    ]
    text = ", ".join(p for p in parts if p)
    return f" · {text}" if text else ""


def _esc(text: str) -> str:
    from rich.markup import escape

    return escape(text)


def summary(v: Validation, console: Console | None = None, report: str = "") -> None:
    """The verdict and the named objects, for a person reading a terminal; subjects
    with the same findings are shown once."""
    out = console or Console(highlight=False, soft_wrap=True)
    code = int(v.verdict)
    failing = f": {', '.join(Verdict.decode(code))}" if code else ""
    colour = "green" if code == 0 else "red"
    out.print(f"\n[bold {colour}]{_esc(v.headline)}[/]  (exit {code}{failing})")
    if v.error:
        out.print(f"[red]{_esc(v.error)}[/]")
    for subjects, d in _grouped(v):
        out.print(
            f"\n[bold]{', '.join(subjects)}[/]: {len(d.removed)} Flannel object(s) removed"
        )
        _list(out, "Flannel objects left", d.left)
        _list(out, "foreign objects destroyed", d.destroyed)
        _list(out, "foreign objects changed", d.changed)
    for s in v.steps:
        if s.status == "failed":
            out.print(
                f"[red]✗[/] step {s.step.number} (line {s.step.line}) {_esc(s.step.label)} failed"
            )
    _pods(v, out)
    if report:
        out.print(f"\nHTML report: {report}")


def _grouped(v: Validation) -> list[tuple[list[str], Delta]]:
    groups: list[tuple[list[str], Delta]] = []
    for subject, d in v.final.items():
        if not (d.left or d.destroyed or d.changed):
            continue
        key = (d.left, d.destroyed, d.changed, len(d.removed))
        for names, other in groups:
            if (other.left, other.destroyed, other.changed, len(other.removed)) == key:
                names.append(subject)
                break
        else:
            groups.append(([subject], d))
    return groups


def _list(out: Console, title: str, items: list[str]) -> None:
    if items:
        out.print(f"  [red]{title} ({len(items)}):[/]")
        for item in items:
            out.print(f"    - {_esc(item)}")


def _pods(v: Validation, out: Any) -> None:
    probes = [p for p in v.pods if p.pod.startswith("probe-")]
    if not probes:
        return
    out.print("\nA new pod on each node after the runbook:")
    for p in probes:
        if p.ip:
            note = f" ({_esc(p.message)})" if p.message else ""
            out.print(f"  [green]✓[/] {p.node}: Running, {p.ip}{note}")
        else:
            out.print(
                f"  [red]✗[/] {p.node}: {p.phase}: {_esc(p.message or 'no sandbox')}"
            )
