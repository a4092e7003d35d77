r"""Where a command's output goes: one JSON document on stdout with ``--json``, tagged
human lines otherwise; messages for the operator always on stderr.

Human text is made printable first: names come from the node (a file called
``x\n[apply] ✓ applied: …`` must not forge a line), so control and format characters
(newlines, escapes, bidi overrides) and undecodable bytes are shown escaped.

>>> Output(json=True).lines(["[plan] ignored in JSON mode"])
>>> printable("a\nb\x1b[31m\u202e\udcff ✓")
'a\\nb\\x1b[31m\\u202e\\udcff ✓'
"""

from __future__ import annotations

import json
import sys
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

ESCAPED = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}  # controls, format, surrogates, …


def printable(text: str) -> str:
    """``text`` with every character that is not plain printable text escaped."""
    if text.isprintable():
        return text
    return "".join(
        c
        if c == " " or unicodedata.category(c) not in ESCAPED
        else c.encode("unicode_escape", "backslashreplace").decode("ascii")
        if ord(c) < 0xD800 or ord(c) > 0xDFFF
        else f"\\u{ord(c):04x}"
        for c in text
    )


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
            sys.stdout.write("".join(printable(line) + "\n" for line in lines))
            sys.stdout.flush()

    @staticmethod
    def error(message: str) -> None:
        sys.stderr.write(f"cniscrub: {printable(message)}\n")
