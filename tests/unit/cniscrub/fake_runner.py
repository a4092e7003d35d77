"""A :class:`cniscrub.node.runner.Runner` for unit tests: records every argv, and no
binary exists (every command exits 127)."""

from __future__ import annotations

from collections.abc import Sequence

from cniscrub.node.command import CommandResult


class FakeRunner:
    """Records argv; no binaries exist."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, ...]] = []

    def which(self, name: str) -> str | None:
        return None

    def run(self, argv: Sequence[str], *, stdin: bytes | None = None) -> CommandResult:
        self.calls.append(tuple(argv))
        return CommandResult(tuple(argv), 127, b"", b"not found")
