"""Tamper with a cniscrub journal the way an editor, a bad disk or a forger would
(shared by the unit and sandbox integrity tests)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cniscrub.journal.format import digest_of, encode

Event = dict[str, Any]
CHAIN = ("seq", "prev", "digest")


def lines(journal: str) -> list[Event]:
    text = Path(journal, "journal.jsonl").read_text()
    return [json.loads(x) for x in text.splitlines()]


def backup_line(journal: str, match: Callable[[Event], bool]) -> int:
    """Number of the first backup line whose action matches."""
    for n, e in enumerate(lines(journal), 1):
        if e["event"] == "backup" and match(e["action"]):
            return n
    raise AssertionError("no such backup line")


def write(journal: str, events: list[Event]) -> None:
    text = "".join(json.dumps(e, sort_keys=True) + "\n" for e in events)
    Path(journal, "journal.jsonl").write_text(text)


def edit(journal: str, n: int, change: Callable[[Event], None]) -> None:
    """Change line ``n`` in place, its digest untouched (an editor, a bad disk)."""
    events = lines(journal)
    change(events[n - 1])
    write(journal, events)


def _rechain(events: list[Event], prev: str, first: int) -> list[Event]:
    out = []
    for i, e in enumerate(events, 1):
        if i >= first:
            body = {k: v for k, v in e.items() if k not in CHAIN}
            e = json.loads(encode(body, i, prev)[0])
        out.append(e)
        prev = e["digest"]
    return out


def forge(journal: str, n: int, change: Callable[[Event], None], chain: bool) -> None:
    """Change line ``n`` and re-digest it (``chain``: every later line too, as a
    forger who knows the format would)."""
    events = lines(journal)
    change(events[n - 1])
    out = _rechain(events, events[0]["prev"], n)
    if not chain:  # only line n re-digested: later lines keep their old links
        out = [*out[:n], *events[n:]]
    write(journal, out)


def forge_everything(
    journal: str, change: Callable[[list[Event], Event], None]
) -> None:
    """Change events and plan.json alike, then re-anchor the whole chain."""
    plan = json.loads(Path(journal, "plan.json").read_text())
    events = lines(journal)
    change(events, plan)
    text = json.dumps(plan, sort_keys=True, separators=(",", ":")).encode()
    Path(journal, "plan.json").write_bytes(text)
    events[0]["plan_sha256"] = digest_of(text)
    write(journal, _rechain(events, digest_of(text), 1))


def planned(plan: Event, aid: int) -> Event:
    return next(a for a in plan["actions"] if a["id"] == aid)  # type: ignore[no-any-return]
