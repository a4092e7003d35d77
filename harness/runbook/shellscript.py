"""A plain shell script, accepted as is, cut into runbook steps.

Operators keep their procedure as a script pasted from a wiki. Each *complete command*
becomes one step: a line, or several lines joined by a trailing ``\\``, an open quote,
a here-document, an ``if``/``for``/``while``/``case`` block, a ``{ }`` group or a line
ending in ``&&``/``|``. Completeness is decided by bash itself (``bash -n`` on the
text so far: "unexpected end of file" means the command goes on), not by a hand-written
grammar. A comment line right above a command names its step in the report.

``kubectl`` commands run once against the cluster, every other command on every node,
in order; ``set -e`` (or ``-o errexit``) makes every later failure stop the run, as it
would stop the operator's shell. A script bash cannot parse is refused with the line.

>>> [(c.line, c.text) for c in commands("# go\\nrm -f a \\\\\\n  b\\nls\\n")]
[(2, 'rm -f a \\\\\\n  b'), (4, 'ls')]
"""

from __future__ import annotations

import re
import shlex
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass

_INCOMPLETE = (
    "unexpected end of file",
    "unexpected EOF",
    "delimited by end-of-file",
)
_ERREXIT = re.compile(r"^set\s+(-\w*e\w*|-o\s+errexit)\b(.*)$")
_OPERATOR = re.compile(r"[;&|<>()]+")
_WRAPPERS = {"sudo", "command", "time", "nohup", "exec", "env"}


@dataclass(frozen=True)
class Command:
    """One complete shell command of the script."""

    line: int  # its first line
    text: str
    comment: str = ""  # the comment line(s) right above it


class ShellSyntaxError(ValueError):
    def __init__(self, line: int, message: str) -> None:
        self.line = line
        super().__init__(message)


def commands(text: str) -> list[Command]:
    """The script's complete commands, in order, with their first line."""
    return list(_commands(text.splitlines()))


def _commands(lines: list[str]) -> Iterator[Command]:
    pending: list[str] = []
    start = 0
    comment: list[str] = []
    for number, line in enumerate(lines, 1):
        stripped = line.strip()
        if not pending:
            if not stripped or (number == 1 and stripped.startswith("#!")):
                comment = []
                continue
            if stripped.startswith("#"):
                comment.append(stripped.lstrip("#").strip())
                continue
            start = number
        pending.append(line)
        if _continues(line):
            continue
        problem = _syntax("\n".join(pending))
        if problem is None:
            yield Command(start, "\n".join(pending).strip(), " ".join(comment))
            pending, comment = [], []
        elif not any(s in problem for s in _INCOMPLETE):
            raise ShellSyntaxError(start, problem)
    if pending:
        problem = _syntax("\n".join(pending)) or "unexpected end of file"
        raise ShellSyntaxError(start, f"command never ends: {problem}")


def _continues(line: str) -> bool:
    """A trailing unescaped backslash joins the next line (bash -n accepts it at EOF)."""
    trailing = len(line) - len(line.rstrip("\\"))
    return trailing % 2 == 1


def _syntax(text: str) -> str | None:
    """None when bash parses ``text`` as complete commands, else bash's complaint."""
    proc = subprocess.run(
        ["bash", "-n"], input=text, capture_output=True, text=True, timeout=10
    )
    message = proc.stderr.strip()
    if proc.returncode == 0 and not any(s in message for s in _INCOMPLETE):
        return None
    # "bash: line 3: syntax error near unexpected token `fi'" -> without the prefix
    lines = message.splitlines() or ["syntax error"]
    first = next((x for x in lines if "syntax error" in x or "warning" in x), lines[0])
    return re.sub(r"^bash: (line \d+: )?", "", first)


def errexit(command: Command) -> bool:
    """``set -e`` / ``set -euo pipefail`` / ``set -o errexit``: later failures stop."""
    return bool(_ERREXIT.match(command.text))


def kubectl_argv(command: Command) -> list[str] | None:
    """The argv of a plain ``[sudo] kubectl ...`` line (``|| true`` and redirections to
    /dev/null allowed), or None when the command is anything else."""
    try:
        lexer = shlex.shlex(command.text, posix=True, punctuation_chars=";&|<>()")
        lexer.whitespace_split = True
        tokens = list(lexer)
    except ValueError:
        return None
    tokens = _strip_tolerated(tokens)
    while tokens and (tokens[0] in _WRAPPERS or tokens[0].startswith("-")):
        tokens = tokens[1:]
    if not tokens or tokens[0].rsplit("/", 1)[-1] != "kubectl":
        return None
    if any(_OPERATOR.fullmatch(t) or "$" in t or "`" in t for t in tokens):
        return None
    return tokens


def _strip_tolerated(tokens: list[str]) -> list[str]:
    """Drop ``|| true`` / ``|| :`` at the end and ``2>/dev/null``-style redirections."""
    if len(tokens) >= 2 and tokens[-2] == "||" and tokens[-1] in ("true", ":"):
        tokens = tokens[:-2]
    out: list[str] = []
    skip = 0
    for i, tok in enumerate(tokens):
        if skip:
            skip -= 1
            continue
        if (
            tok in (">", ">>", "&>")
            and i + 1 < len(tokens)
            and tokens[i + 1] == "/dev/null"
        ):
            if out and out[-1] in ("1", "2"):
                out.pop()
            skip = 1
            continue
        out.append(tok)
    return out


def mentions_kubectl(command: Command) -> bool:
    """Whether ``kubectl`` is one of the command's words (a block, a pipeline), not
    text inside quotes or a here-document."""
    code = _QUOTED.sub("''", _without_heredocs(command.text))
    return bool(re.search(r"(^|[\s;&|(`/])kubectl(\s|$)", code))


_QUOTED = re.compile(r"'[^']*'|\"(\\.|[^\"\\])*\"")
_HEREDOC = re.compile(r"<<-?\s*(['\"]?)([A-Za-z_][A-Za-z0-9_]*)\1")


def _without_heredocs(text: str) -> str:
    out: list[str] = []
    ends: list[str] = []
    for line in text.splitlines():
        if ends:
            if line.strip() == ends[0]:
                ends.pop(0)
            continue
        out.append(line)
        ends += [m.group(2) for m in _HEREDOC.finditer(line)]
    return "\n".join(out)


def tolerates_failure(command: Command) -> bool:
    try:
        tokens = shlex.split(command.text)
    except ValueError:
        return False
    return len(tokens) >= 2 and tokens[-2] == "||" and tokens[-1] in ("true", ":")
