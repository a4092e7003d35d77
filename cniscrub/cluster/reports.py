"""Each node's own report, as its cleaner printed it into the pod log, and the
verdict ``cniscrub cluster`` draws from it.

A pod log interleaves the container's stdout and stderr; with ``--json`` the cleaner
prints exactly one JSON document on one line (docs/cniscrub-json-schema.md), so the
report is the log's line that is a cniscrub document, and every other line is a
message. The verdict comes from the report and the exit code only:

========  =====================================================================
apply     0 ``clean``, 3 ``partial`` (counts of applied/noop/failed/skipped and
          what the verification found left), 6 ``refused`` (agent running, lock)
plan      0 ``clean`` (nothing to do), 2 ``pending`` (``actions``)
verify    0 ``clean``, 2 ``residue`` (``residue``)
========  =====================================================================

Anything else, or no report at all, is ``failed`` with the log's last message.

>>> doc, rest = split_log('warning: x\\n{"schema": "cniscrub/verify/v1", "exit_code": 0}\\n')
>>> doc["exit_code"], rest
(0, 'warning: x')
>>> verdict("verify", 2, {"schema": "cniscrub/verify/v1", "residue": [1, 2]})[:2]
('residue', {'residue': 2})
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

__all__ = ["split_log", "verdict"]

Doc = dict[str, Any]


def split_log(log: str) -> tuple[Doc | None, str]:
    """(the last cniscrub JSON document in the log, the other lines)."""
    doc: Doc | None = None
    rest = []
    for line in log.splitlines():
        text = line.strip()
        if text.startswith("{"):
            try:
                parsed = json.loads(text)
            except ValueError:
                parsed = None
            if isinstance(parsed, dict) and str(parsed.get("schema", "")).startswith(
                "cniscrub/"
            ):
                doc = parsed
                continue
        rest.append(line)
    return doc, "\n".join(rest).strip()


def _apply_counts(doc: Doc) -> dict[str, int]:
    counts = Counter(str(r.get("status")) for r in doc.get("results") or [])
    out = {k: counts.get(k, 0) for k in ("applied", "noop", "failed", "skipped")}
    verify = doc.get("verify") or {}
    out["remaining"] = int(verify.get("remaining") or 0)
    return out


def verdict(
    command: str, exit_code: int | None, doc: Doc | None
) -> tuple[str, dict[str, int], str]:
    """(verdict, counts, message) of one node's run."""
    if doc is None:
        return (
            "failed",
            {},
            f"no cniscrub report in the pod log (exit code {exit_code})",
        )
    if doc.get("schema") == "cniscrub/error/v1":
        state = "refused" if exit_code == 6 else "failed"
        return state, {}, str(doc.get("error") or "")
    if command == "apply" and exit_code in (0, 3):
        counts = _apply_counts(doc)
        clean = exit_code == 0 and counts["failed"] == 0 and counts["remaining"] == 0
        return ("clean" if clean else "partial"), counts, ""
    if command == "plan" and exit_code in (0, 2):
        actions = len(doc.get("actions") or [])
        blockers = "; ".join(doc.get("blockers") or [])
        return ("clean" if actions == 0 else "pending"), {"actions": actions}, blockers
    if command == "verify" and exit_code in (0, 2):
        residue = len(doc.get("residue") or [])
        return ("clean" if residue == 0 else "residue"), {"residue": residue}, ""
    return "failed", {}, f"cniscrub {command} exited {exit_code}"
