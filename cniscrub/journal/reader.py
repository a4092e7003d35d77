"""Read a journal and decide which of its lines can be trusted.

``plan.json`` must match the sha256 its start event recorded, and the start event must
be intact, or nothing in the journal is used (:class:`JournalError`). Every other line
is checked on its own and against the line before it (:mod:`cniscrub.journal.format`):
a line that fails is not used, and is reported naming its number and, when it can still
be read, the action it backs up. A line that follows another line which was changed
and re-digested looks intact but breaks the chain: both are reported. The one failure
that is normal is a torn *last* line (the run was killed while writing it): it is
ignored, and a note says so.

>>> import tempfile; from cniscrub.journal.writer import Journal
>>> j = Journal.create(tempfile.mkdtemp(), "abc", {"actions": []})
>>> view = read_journal(j.path); (view.start["plan_id"], view.problems)
('abc', [])
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any

from cniscrub.errors import RestoreError
from cniscrub.journal.format import LineError, decode, digest_of
from cniscrub.journal.writer import JOURNAL, PLAN

MAX_LINE = 64 << 20  # no event is anywhere near this; a longer "line" is not one


class JournalError(RestoreError):
    """The journal as a whole cannot be used (missing, or its anchor is broken)."""


class NotAJournalError(JournalError):
    """The path holds no journal at all."""


@dataclass
class JournalView:
    """What a journal holds that can be trusted, and what cannot."""

    path: str
    plan: dict[str, Any]
    start: dict[str, Any]
    events: list[tuple[int, dict[str, Any]]] = field(
        default_factory=list
    )  # (line, event)
    problems: list[str] = field(default_factory=list)  # untrusted lines, by number
    untrusted: dict[int, str] = field(default_factory=dict)  # action id -> why
    notes: list[str] = field(default_factory=list)

    @property
    def root(self) -> str | None:
        root = self.start.get("root")
        return root if isinstance(root, str) else None

    @property
    def blobs(self) -> str:
        return os.path.join(self.path, "blobs")

    def of(self, kind: str) -> list[tuple[int, dict[str, Any]]]:
        return [(n, e) for n, e in self.events if e.get("event") == kind]


def _plan(path: str) -> tuple[dict[str, Any], str]:
    try:
        with open(os.path.join(path, PLAN), "rb") as fh:
            text = fh.read(MAX_LINE)
        plan = json.loads(text)
    except (OSError, ValueError) as exc:
        raise JournalError(f"{path}/{PLAN} cannot be read: {exc}") from exc
    if not isinstance(plan, dict) or not isinstance(plan.get("actions"), list):
        raise JournalError(f"{path}/{PLAN} is not a cniscrub plan")
    return plan, digest_of(text)


def _lines(path: str) -> list[bytes]:
    try:
        with open(os.path.join(path, JOURNAL), "rb") as fh:
            return fh.read().split(b"\n")
    except OSError as exc:
        raise JournalError(f"{path}/{JOURNAL} cannot be read: {exc.strerror}") from exc


def _action_of(line: bytes) -> str:
    """`` (backup of action N, TARGET)`` when a failed line still names one."""
    try:
        obj = json.loads(line)
        a = obj["action"]
        return f" ({obj['event']} of action {int(a['id'])}, {a['target']!r})"
    except Exception:  # an unreadable line names nothing
        return ""


def read_journal(path: str) -> JournalView:
    """Every line of the journal at ``path``, checked (see the module docstring)."""
    if not os.path.isfile(os.path.join(path, JOURNAL)):
        raise NotAJournalError(f"{path} is not a cniscrub journal (no {JOURNAL})")
    plan, plan_sha = _plan(path)
    raw = _lines(path)
    torn_tail = raw[-1] != b""  # the file does not end with a newline
    if not torn_tail:
        raw.pop()
    try:
        start = decode(raw[0], 1, plan_sha) if raw else None
    except LineError as exc:
        raise JournalError(
            f"{JOURNAL} line 1 (the start event) cannot be trusted: {exc}; or {PLAN} "
            "was changed after the run (its sha256 must be the start event's)"
        ) from exc
    if not start or start.get("event") != "start":
        raise JournalError(f"{JOURNAL} does not begin with a start event")
    view = JournalView(path, plan, start)
    _check_lines(view, raw, torn_tail)
    return view


def _check_lines(view: JournalView, raw: list[bytes], torn_tail: bool) -> None:
    prev: str | None = json.loads(raw[0])["digest"]
    for n, line in enumerate(raw[1:], 2):
        try:
            event = decode(line, n, prev) if prev else _decode_unchained(line, n)
        except LineError as exc:
            if n == len(raw) and torn_tail:
                view.notes.append(
                    f"{JOURNAL} line {n} is torn (the run was interrupted while writing "
                    "it); ignored"
                )
                return
            _reject(view, n, line, str(exc))
            if (
                "does not follow" in str(exc)
                and view.events
                and view.events[-1][0] == n - 1
            ):
                bad_n, bad = view.events.pop()  # the line before may be the changed one
                _reject(
                    view,
                    bad_n,
                    json.dumps(bad).encode(),
                    "the next line's link to it is broken",
                )
            prev = _recorded_digest(line)
            continue
        view.events.append((n, event))
        prev = _recorded_digest(line)


def _decode_unchained(line: bytes, n: int) -> dict[str, Any]:
    """A line after an unreadable one: its own digest and number are checked (its
    link cannot be: the line before is already reported)."""
    try:
        prev = json.loads(line)["prev"]
    except Exception as exc:
        raise LineError(f"not a journal event ({exc})") from exc
    return decode(line, n, prev)


def _recorded_digest(line: bytes) -> str | None:
    try:
        digest = json.loads(line).get("digest")
    except Exception:
        return None
    return digest if isinstance(digest, str) else None


def _reject(view: JournalView, n: int, line: bytes, why: str) -> None:
    view.problems.append(f"{JOURNAL} line {n}{_action_of(line)}: {why}; not used")
    try:
        obj = json.loads(line)
        if obj.get("event") == "backup":
            view.untrusted[int(obj["action"]["id"])] = f"{JOURNAL} line {n}: {why}"
    except Exception:
        pass
