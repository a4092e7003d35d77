"""Write the journal of one apply run -- the plan, a backup record per object *before*
it is touched, and each result -- so that ``cniscrub restore`` can put everything back.

Nothing is trusted to have reached the disk until it is checked: every write is
repeated until all bytes are out (a short write is not an error, a failed one is),
then ``fsync``-ed, then read back and compared. A write that fails leaves no torn line
behind (the file is cut back to where the write began) and raises
:class:`JournalWriteError`; after one, the journal takes no more events (the run must
stop, see :class:`cniscrub.apply.executor.Executor`).

>>> import tempfile; j = Journal.create(tempfile.mkdtemp(), "abc", {"x": 1})
>>> j.record({"event": "backup", "action": 1})
'journal.jsonl:2'
"""

from __future__ import annotations

import json
import os
import time
from typing import Any

from cniscrub.errors import BackupError
from cniscrub.journal import filestore
from cniscrub.journal.format import digest_of, encode
from cniscrub.node.rootfs import RootFS

JOURNAL = "journal.jsonl"
PLAN = "plan.json"


class JournalWriteError(BackupError):
    """The journal (or a blob) cannot be written, synced or read back: stop the run."""


def _write_all(fd: int, data: bytes, where: str) -> None:
    """Write every byte of ``data`` (repeating after short writes)."""
    view = memoryview(data)
    while view:
        try:
            n = os.write(fd, view)
        except OSError as exc:
            raise JournalWriteError(f"cannot write {where}: {exc.strerror}") from exc
        if n <= 0:
            raise JournalWriteError(f"cannot write {where}: the write wrote nothing")
        view = view[n:]


def append_checked(fd: int, data: bytes, where: str, durable: bool) -> None:
    """Append ``data`` at the end of ``fd``'s file; when ``durable``, fsync it and
    read it back. On any failure the file is cut back to its old end."""
    start = os.fstat(fd).st_size
    try:
        _write_all(fd, data, where)
        if durable:
            try:
                os.fsync(fd)
            except OSError as exc:
                raise JournalWriteError(f"cannot sync {where}: {exc.strerror}") from exc
            if os.pread(fd, len(data), start) != data:
                raise JournalWriteError(f"{where} does not read back what was written")
    except JournalWriteError:
        try:
            os.ftruncate(fd, start)
        except OSError:
            pass  # a torn last line: readers say so and ignore it
        raise


def _stamp() -> str:
    now = time.time()
    return (
        time.strftime("%Y%m%dT%H%M%S", time.gmtime(now)) + f".{int(now % 1 * 1e6):06d}Z"
    )


def _new_dir(base: str, plan_id: str) -> str:
    path = os.path.join(base, f"{_stamp()}-{plan_id}")
    n = 1
    while os.path.exists(path):
        n += 1
        path = os.path.join(base, f"{_stamp()}-{plan_id}.{n}")
    return path


def _sync_dir(path: str) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class Journal:
    """An append-only journal directory being written."""

    def __init__(self, path: str, seq: int, prev: str) -> None:
        self.path = path
        self._seq, self._prev = seq, prev  # last line written, and its digest
        self._broken: str | None = None  # why no more events can be written

    @classmethod
    def create(
        cls, base: str, plan_id: str, plan: dict[str, Any], root: str = "/"
    ) -> Journal:
        """A new journal: plan.json and the start event, durable and checked."""
        path = _new_dir(base, plan_id)
        text = json.dumps(plan, sort_keys=True, separators=(",", ":")).encode()
        try:
            os.makedirs(os.path.join(path, "blobs"), mode=0o700)
            fd = os.open(
                os.path.join(path, PLAN), os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600
            )
            try:
                append_checked(fd, text, f"{path}/{PLAN}", durable=True)
            finally:
                os.close(fd)
            _sync_dir(path)
        except OSError as exc:
            raise JournalWriteError(
                f"cannot create journal {path}: {exc.strerror}"
            ) from exc
        plan_sha = digest_of(text)
        journal = cls(path, 0, plan_sha)
        start = {"event": "start", "plan_id": plan_id, "pid": os.getpid()}
        journal.record_many(
            [{**start, "root": os.path.realpath(root), "plan_sha256": plan_sha}]
        )
        return journal

    @property
    def broken(self) -> str | None:
        """Why the journal takes no more events (None: it does)."""
        return self._broken

    def record(self, event: dict[str, Any]) -> str:
        return self.record_many([event])[0]

    def record_many(
        self, events: list[dict[str, Any]], durable: bool = True
    ) -> list[str]:
        """Append ``events``; return where each went (``journal.jsonl:<line>``, a
        result's ``backup_ref``). ``durable`` (backups): synced and read back before
        this returns, so the objects they back up may be touched. ``durable=False``
        (results): written, left to the kernel to flush -- a result lost in a crash only
        makes the re-run find the object gone."""
        if self._broken:
            raise JournalWriteError(self._broken)
        seq, prev, lines = self._seq, self._prev, []
        for event in events:
            seq += 1
            line, prev = encode(event, seq, prev)
            lines.append(line)
        where = f"{self.path}/{JOURNAL}"
        try:
            fd = os.open(where, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
        except OSError as exc:
            self._broken = f"cannot open {where}: {exc.strerror}"
            raise JournalWriteError(self._broken) from exc
        try:
            append_checked(fd, b"".join(lines), where, durable)
        except JournalWriteError as exc:
            self._broken = str(exc)
            raise
        finally:
            os.close(fd)
        first = self._seq + 1
        self._seq, self._prev = seq, prev
        return [f"{JOURNAL}:{first + i}" for i in range(len(events))]

    def keep_file(self, fs: RootFS, path: str, name: str) -> dict[str, Any]:
        """Payload keys holding the bytes of the file ``path``: inline base64 up to
        :data:`filestore.INLINE_MAX`, else streamed into ``blobs/<name>`` (synced and
        read back), with their size and sha256; files over :data:`filestore.CAP` are
        refused (:class:`BackupError`)."""
        if self._broken:
            raise JournalWriteError(self._broken)
        try:
            return filestore.keep(fs, path, os.path.join(self.path, "blobs", name))
        except filestore.StoreError as exc:
            self._broken = str(exc)
            raise JournalWriteError(str(exc)) from exc
