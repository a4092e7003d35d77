"""The journal of one apply run: the plan, a backup record per object *before* it is
touched, and each result -- enough for ``cniscrub restore`` to put everything back.

Layout of ``<journal-dir>/<UTC timestamp>-<plan id>/`` (timestamp with microseconds, so
names sort in the order the runs started)::

    plan.json        the plan that was applied
    journal.jsonl    one JSON event per line: backup, result (fsync'd as written)
    blobs/<n>        raw bytes of backed-up files (named by action id)

>>> import tempfile; j = Journal.create(tempfile.mkdtemp(), "abc", {"x": 1})
>>> j.record({"event": "backup", "action": 1}); [e["event"] for e in j.events()]
['start', 'backup']
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from typing import Any

from cniscrub.errors import BackupError, RestoreError

DEFAULT_JOURNAL_DIR = "/var/lib/cniscrub/journal"


def _syncfs(fd: int) -> None:
    """One syncfs(2) for the journal's filesystem (blobs + journal), fsync fallback."""
    import ctypes  # only when writing: keeps `cniscrub plan` startup lean

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.syncfs(fd) == 0:
            return
    except (OSError, AttributeError):
        pass
    os.fsync(fd)


class Journal:
    """Append-only journal directory."""

    def __init__(self, path: str) -> None:
        self.path = path

    @classmethod
    def create(cls, base: str, plan_id: str, plan: dict[str, Any]) -> Journal:
        now = time.time()
        stamp = (
            time.strftime("%Y%m%dT%H%M%S", time.gmtime(now))
            + f".{int(now % 1 * 1e6):06d}Z"
        )
        path = os.path.join(base, f"{stamp}-{plan_id}")
        n = 1
        while os.path.exists(path):
            n += 1
            path = os.path.join(base, f"{stamp}-{plan_id}.{n}")
        try:
            os.makedirs(os.path.join(path, "blobs"), mode=0o700)
            with open(os.path.join(path, "plan.json"), "w", encoding="utf-8") as fh:
                fh.write(json.dumps(plan, sort_keys=True, separators=(",", ":")))
            journal = cls(path)
            journal.record({"event": "start", "plan_id": plan_id, "pid": os.getpid()})
        except OSError as exc:
            raise BackupError(f"cannot create journal {path}: {exc}") from exc
        return journal

    @classmethod
    def open(cls, path: str) -> Journal:
        if not os.path.isfile(os.path.join(path, "journal.jsonl")):
            raise RestoreError(f"{path} is not a cniscrub journal (no journal.jsonl)")
        return cls(path)

    def record(self, event: dict[str, Any]) -> None:
        self.record_many([event])

    def record_many(self, events: list[dict[str, Any]]) -> None:
        """Append events and make them (and any blobs written so far) durable."""
        data = "".join(json.dumps(e, sort_keys=True) + "\n" for e in events)
        flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT
        fd = os.open(os.path.join(self.path, "journal.jsonl"), flags, 0o600)
        try:
            os.write(fd, data.encode())
            _syncfs(fd)
        finally:
            os.close(fd)

    def save_blob(self, name: str, data: bytes) -> str:
        """Write a blob; it becomes durable with the next :meth:`record_many`."""
        with open(os.path.join(self.path, "blobs", name), "wb") as fh:
            fh.write(data)
        return name

    def blob(self, name: str) -> bytes:
        with open(os.path.join(self.path, "blobs", name), "rb") as fh:
            return fh.read()

    def events(self) -> Iterator[dict[str, Any]]:
        with open(os.path.join(self.path, "journal.jsonl"), encoding="utf-8") as fh:
            for line in fh:
                if line.strip():
                    try:
                        yield json.loads(line)
                    except ValueError:
                        continue  # a line torn by SIGKILL: ignore it
