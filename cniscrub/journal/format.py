"""One journal line: an event as canonical JSON with its place in a digest chain.

Every line carries ``seq`` (its 1-based line number), ``prev`` (the previous line's
digest; the first line's is the sha256 of ``plan.json``) and ``digest`` (sha256 of the
line's canonical JSON without ``digest``: sorted keys, no spaces, ASCII). An edited line
no longer matches its digest; a removed, inserted or re-digested line breaks the next
line's ``prev``.

>>> line, d = encode({"event": "start"}, 1, "0" * 64)
>>> decode(line.rstrip(b"\\n"), 1, "0" * 64)["event"]
'start'
>>> decode(line.replace(b"start", b"begin").rstrip(b"\\n"), 1, "0" * 64)
Traceback (most recent call last):
...
cniscrub.journal.format.LineError: its digest does not match: it changed after it was written
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from cniscrub.errors import CleanerError

SEPARATORS = (",", ":")


class LineError(CleanerError):
    """A journal line that cannot be trusted (the message says why)."""


def canonical(obj: Any) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=SEPARATORS).encode("ascii")


def digest_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def encode(event: dict[str, Any], seq: int, prev: str) -> tuple[bytes, str]:
    """``event`` as line ``seq`` after a line whose digest is ``prev``: (the line with
    its newline, its digest)."""
    body = {**event, "seq": seq, "prev": prev}
    text = canonical(body)
    digest = digest_of(text)
    return text[:-1] + b',"digest":"' + digest.encode() + b'"}\n', digest


def decode(line: bytes, seq: int, prev: str) -> dict[str, Any]:
    """The event of line ``seq`` (without the chain fields) if it is intact and follows
    a line whose digest is ``prev``; else :class:`LineError`."""
    try:
        obj = json.loads(line)
    except (ValueError, UnicodeDecodeError) as exc:
        raise LineError(f"not valid JSON ({exc})") from exc
    if not isinstance(obj, dict) or not isinstance(obj.get("digest"), str):
        raise LineError("not a journal event (no digest)")
    recorded = obj.pop("digest")
    if digest_of(canonical(obj)) != recorded:
        raise LineError("its digest does not match: it changed after it was written")
    if obj.get("seq") != seq:
        raise LineError(
            f"it says it is line {obj.get('seq')!r} (lines removed or moved)"
        )
    if obj.get("prev") != prev:
        raise LineError(
            "it does not follow the line before it (that line was changed, or lines "
            "were removed or inserted)"
        )
    del obj["seq"], obj["prev"]
    return obj
