"""Progress of a cluster run on stderr: a live ``rich`` display on a terminal (the
step, the wait for the agent's pods, a bar of nodes done with the nodes running now),
plain lines elsewhere (CI logs), nothing with ``--quiet``. stdout stays for the result.

>>> import io
>>> p = LineProgress(stream=io.StringIO()); p.phase("deleting DaemonSet x")
>>> p.stream.getvalue()
'cniscrub cluster: deleting DaemonSet x\\n'
"""

from __future__ import annotations

import sys
from typing import IO, Any, Protocol

from cniscrub.cluster.model import NodeResult

__all__ = ["LineProgress", "Progress", "QuietProgress", "RichProgress", "make_progress"]

MARKS = {"clean": "✓", "pending": "•", "residue": "✗", "partial": "✗"}


def result_line(result: NodeResult) -> str:
    mark = MARKS.get(result.verdict, "!")
    took = f" ({result.seconds:.1f} s)" if result.seconds is not None else ""
    why = f": {result.message}" if result.message else ""
    return f"{mark} {result.node} {result.verdict}{took}{why}"


class Progress(Protocol):
    def phase(self, text: str) -> None: ...
    def waiting(self, left: int, total: int, detail: str) -> None: ...
    def jobs(self, total: int, command: str) -> None: ...
    def job_started(self, node: str) -> None: ...
    def job_done(self, result: NodeResult) -> None: ...
    def close(self) -> None: ...


class QuietProgress:
    """Says nothing."""

    def phase(self, text: str) -> None:
        pass

    def waiting(self, left: int, total: int, detail: str) -> None:
        pass

    def jobs(self, total: int, command: str) -> None:
        pass

    def job_started(self, node: str) -> None:
        pass

    def job_done(self, result: NodeResult) -> None:
        pass

    def close(self) -> None:
        pass


class LineProgress(QuietProgress):
    """One line per event (no terminal needed)."""

    def __init__(self, stream: IO[str] | None = None) -> None:
        self.stream = stream or sys.stderr
        self._last_wait: tuple[int, int] | None = None
        self._done = self._total = 0

    def _say(self, text: str) -> None:
        self.stream.write(f"cniscrub cluster: {text}\n")
        self.stream.flush()

    def phase(self, text: str) -> None:
        self._say(text)

    def waiting(self, left: int, total: int, detail: str) -> None:
        if self._last_wait != (left, total):
            self._last_wait = (left, total)
            self._say(f"waiting: {left} of {total} {detail}")

    def jobs(self, total: int, command: str) -> None:
        self._done, self._total = 0, total
        self._say(f"cniscrub {command} on {total} node(s)")

    def job_done(self, result: NodeResult) -> None:
        self._done += 1
        self._say(f"[{self._done}/{self._total}] {result_line(result)}")


class RichProgress:
    """A live display on a terminal."""

    def __init__(self, console: Any = None) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            SpinnerColumn,
            TextColumn,
            TimeElapsedColumn,
        )

        self.console = console or Console(stderr=True)
        self.live = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=self.console,
        )
        self.live.start()
        self._wait: Any = None
        self._nodes: Any = None
        self._running: list[str] = []

    def phase(self, text: str) -> None:
        self.live.console.print(f"[bold]·[/bold] {text}")

    def waiting(self, left: int, total: int, detail: str) -> None:
        if self._wait is None:
            self._wait = self.live.add_task(f"waiting: {detail}", total=total)
        self.live.update(self._wait, completed=total - left)

    def jobs(self, total: int, command: str) -> None:
        self._nodes = self.live.add_task(f"cniscrub {command}", total=total)

    def _describe(self) -> None:
        shown = ", ".join(self._running[:4]) + (" …" if len(self._running) > 4 else "")
        self.live.update(self._nodes, description=f"running on {shown or '-'}")

    def job_started(self, node: str) -> None:
        self._running.append(node)
        self._describe()

    def job_done(self, result: NodeResult) -> None:
        if result.node in self._running:
            self._running.remove(result.node)
        self.live.console.print(result_line(result))
        if self._nodes is not None:
            self.live.advance(self._nodes)
            self._describe()

    def close(self) -> None:
        self.live.stop()


def make_progress(quiet: bool = False) -> Progress:
    """The display for this stderr: rich on a terminal, lines otherwise."""
    if quiet:
        return QuietProgress()
    if sys.stderr.isatty():
        return RichProgress()
    return LineProgress()
