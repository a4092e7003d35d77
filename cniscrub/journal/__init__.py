"""The journal of one apply run: written before anything is touched (:mod:`.writer`),
checked line by line before anything is restored from it (:mod:`.reader`).

Layout of ``<journal-dir>/<UTC timestamp>-<plan id>/``::

    plan.json        the plan that was applied (its sha256 is in the start event)
    journal.jsonl    one event per line, each with ``seq``, ``prev`` and ``digest``
                     (:mod:`.format`): a chain anchored in plan.json
    blobs/<n>        bytes of backed-up files over INLINE_MAX (by action id);
                     smaller files are kept base64 in their backup event
"""

from __future__ import annotations

DEFAULT_JOURNAL_DIR = "/var/lib/cniscrub/journal"
