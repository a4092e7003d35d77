"""Bytes of backed-up files, streamed with bounded memory.

A file up to :data:`INLINE_MAX` is kept base64 inside its backup event (a few hundred
IPAM and cache files back up with one write and one sync: measured, 342 files of the
bench's large node in 2 ms instead of 39 ms with one blob file each). A bigger one is
copied in :data:`CHUNK` pieces into a blob file, synced and read back; a file over
:data:`CAP` is refused (its object is then not touched): a journal never holds a
multi-GiB copy, and memory stays at one chunk whatever the file's size. Every kept
file records its ``size`` and ``sha256``; :func:`check` verifies them before a byte
is restored (and right after a blob is written).

>>> import tempfile, os; d = tempfile.mkdtemp(); open(d + "/f", "wb").write(b"ipam")
4
>>> from cniscrub.node.rootfs import RootFS
>>> p = keep(RootFS(d), "/f", d + "/blob"); (p["size"], "data_b64" in p)
(4, True)
>>> b"".join(chunks(p, d)) == b"ipam"
True
"""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Iterator
from typing import Any

from cniscrub.errors import BackupError, CleanerError
from cniscrub.node.rootfs import RootFS

INLINE_MAX = 64 * 1024  # file bytes up to this size go into the backup event itself
CAP = 64 * 1024 * 1024  # larger files are not backed up (and so not removed)
CHUNK = 1 << 20


class StoreError(CleanerError):
    """The journal's blob could not be written, synced or read back."""


class StoredFileError(CleanerError):
    """Kept bytes that are missing or do not match their recorded size/sha256."""


def _read_all(fd: int, limit: int) -> bytes:
    parts, left = [], limit
    while left > 0:
        chunk = os.read(fd, min(left, CHUNK))
        if not chunk:
            break
        parts.append(chunk)
        left -= len(chunk)
    return b"".join(parts)


def keep(fs: RootFS, path: str, blob: str) -> dict[str, Any]:
    """Payload keys (``data_b64`` or ``blob``, ``size``, ``sha256``) for ``path``."""
    fd = fs.open_regular(path)
    try:
        size = os.fstat(fd).st_size
        if size > CAP:
            raise BackupError(
                f"{path} is {size} bytes, over the backup cap of {CAP >> 20} MiB: not "
                "backed up, so not removed (check it and remove it yourself)"
            )
        if size <= INLINE_MAX:
            data = _read_all(fd, INLINE_MAX + 1)
            if len(data) > INLINE_MAX:
                raise BackupError(f"{path} grew while it was being backed up")
            sha = hashlib.sha256(data).hexdigest()
            return {
                "data_b64": base64.b64encode(data).decode("ascii"),
                "size": len(data),
                "sha256": sha,
            }
        written, sha = _stream_to(fd, path, blob)
    finally:
        os.close(fd)
    kept = {"blob": os.path.basename(blob), "size": written, "sha256": sha}
    try:
        check(kept, os.path.dirname(blob))  # read back what reached the disk
    except StoredFileError as exc:
        raise StoreError(f"{blob}: {exc}") from exc
    return kept


def _stream_to(src: int, path: str, blob: str) -> tuple[int, str]:
    """Copy ``src`` into a new blob file (synced); (bytes, sha256)."""
    from cniscrub.journal.writer import JournalWriteError, append_checked

    h, total = hashlib.sha256(), 0
    try:
        out = os.open(blob, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as exc:
        raise StoreError(f"cannot create {blob}: {exc.strerror}") from exc
    try:
        while chunk := os.read(src, CHUNK):
            total += len(chunk)
            if total > CAP:
                raise BackupError(
                    f"{path} grew over the backup cap while being backed up"
                )
            h.update(chunk)
            append_checked(out, chunk, blob, durable=False)
        os.fsync(out)
        dfd = os.open(os.path.dirname(blob), os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    except (JournalWriteError, OSError) as exc:
        raise StoreError(f"cannot write {blob}: {exc}") from exc
    finally:
        os.close(out)
    return total, h.hexdigest()


def chunks(payload: dict[str, Any], blobs: str) -> Iterator[bytes]:
    """The kept bytes, one chunk at a time (unchecked: see :func:`check`)."""
    if "data_b64" in payload:
        yield base64.b64decode(payload["data_b64"], validate=True)
        return
    name = str(payload["blob"])
    if "/" in name or name in (".", ".."):
        raise StoredFileError(f"blob name {name!r} is not a name in blobs/")
    with open(os.path.join(blobs, name), "rb") as fh:
        while chunk := fh.read(CHUNK):
            yield chunk


def check(payload: dict[str, Any], blobs: str) -> None:
    """Raise :class:`StoredFileError` unless the kept bytes are there, of the recorded
    size and sha256 (read once, in chunks)."""
    h, total = hashlib.sha256(), 0
    try:
        for chunk in chunks(payload, blobs):
            total += len(chunk)
            if total > CAP:
                raise StoredFileError("kept bytes are over the backup cap")
            h.update(chunk)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise StoredFileError(f"kept bytes cannot be read: {exc}") from exc
    if total != payload.get("size") or h.hexdigest() != payload.get("sha256"):
        raise StoredFileError("kept bytes do not match their recorded size and sha256")
