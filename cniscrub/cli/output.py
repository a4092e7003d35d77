"""Where a command's output goes: one JSON document on stdout with ``--json``, tagged
human lines otherwise; messages for the operator always on stderr.

>>> Output(json=True).lines(["[plan] ignored in JSON mode"])
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Output:
    json: bool

    def document(self, doc: dict[str, Any], lines: Iterable[str] = ()) -> None:
        """The run's result: ``doc`` with ``--json`` (once per run), else ``lines``."""
        if self.json:
            # no indent: json's C encoder (the pure-Python indenting one is ~5x slower)
            sys.stdout.write(json.dumps(doc, sort_keys=True, default=str) + "\n")
        else:
            self.lines(lines)

    def lines(self, lines: Iterable[str]) -> None:
        """Progress lines as they happen (human mode only)."""
        if not self.json:
            sys.stdout.write("".join(line + "\n" for line in lines))
            sys.stdout.flush()

    @staticmethod
    def error(message: str) -> None:
        sys.stderr.write(f"cniscrub: {message}\n")
