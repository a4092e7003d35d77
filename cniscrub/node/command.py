"""The result of one command run on a node, and the error that carries it.

Every command in cniscrub and in the harness is an argv list, never a shell string. A
failed command raises :class:`CommandError`, whose message is ready to paste into a shell:

>>> r = CommandResult(("false",), 1, b"", b"boom\\n")
>>> r.ok
False
>>> str(CommandError(r)).splitlines()[0]
'command failed (exit 1): false'
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class CommandResult:
    """What a command printed and how it exited."""

    argv: tuple[str, ...]
    rc: int
    stdout_bytes: bytes
    stderr_bytes: bytes

    @property
    def ok(self) -> bool:
        return self.rc == 0

    @property
    def stdout(self) -> str:
        return self.stdout_bytes.decode("utf-8", "replace")

    @property
    def stderr(self) -> str:
        return self.stderr_bytes.decode("utf-8", "replace")

    def check(self) -> CommandResult:
        """Return self, or raise :class:`CommandError` if the command failed."""
        if self.rc != 0:
            raise CommandError(self)
        return self


class CommandError(RuntimeError):
    """A command exited non-zero (or could not run); carries argv and output."""

    def __init__(self, result: CommandResult, note: str = "") -> None:
        self.result = result
        head = f"command failed (exit {result.rc}): {shlex.join(result.argv)}"
        if note:
            head += f" [{note}]"
        parts = [head]
        if result.stdout_bytes.strip():
            parts.append("stdout:\n" + _tail(result.stdout))
        if result.stderr_bytes.strip():
            parts.append("stderr:\n" + _tail(result.stderr))
        super().__init__("\n".join(parts))

    @property
    def argv(self) -> tuple[str, ...]:
        return self.result.argv


def _tail(text: str, limit: int = 4000) -> str:
    text = text.rstrip()
    return text if len(text) <= limit else "…" + text[-limit:]


def as_argv(argv: Sequence[str]) -> tuple[str, ...]:
    """Validate and freeze an argv list (strings only, never a single shell string)."""
    if isinstance(argv, str | bytes):
        raise TypeError("argv must be a list of strings, not a shell string")
    out = tuple(argv)
    if not out or not all(isinstance(a, str) for a in out):
        raise TypeError(f"argv must be a non-empty list of strings: {argv!r}")
    return out
