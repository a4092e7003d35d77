"""Netlink dumps decoded by a child interpreter on the other core, streamed back as
JSON lines.

pyroute2 decodes in Python, so a big node's dumps are CPU-bound; in a thread they would
share the GIL with the rest of the inventory. :class:`DumpChild` starts
``python -m cniscrub.node.netlink_child SECTION...`` (forked from the calling thread, so
it reads the same network namespace); the child writes one JSON line per section, in
order, as soon as each is read. A section is a kind of :func:`cniscrub.node.netlink.dump`
(``routes``, ...) or ``link-tables`` (:func:`cniscrub.node.netlink.link_tables`).
:meth:`DumpChild.take` returns a section, or None when the child failed, timed out or
answered garbage: the caller then reads that section in its own process, so a broken
child costs time, never correctness.

>>> parse_line(b'{"section": "routes", "data": []}')
('routes', [])
"""

from __future__ import annotations

import json
import logging
import os
import select
import subprocess
import sys
import time
from collections.abc import Sequence
from typing import Any

log = logging.getLogger(__name__)

SECTIONS = ("links", "addresses", "routes", "neighbours", "fdb", "link-tables")
TIMEOUT = 120.0  # seconds for the whole child; a node's dumps never take this long


def parse_line(line: bytes) -> tuple[str, Any]:
    """One child line -> (section, data); ValueError if it is not one."""
    doc = json.loads(line)
    if not isinstance(doc, dict) or doc.get("section") not in SECTIONS:
        raise ValueError("not a section line")
    return doc["section"], doc["data"]


class DumpChild:
    """A running child and the sections it has not handed over yet."""

    def __init__(self, sections: Sequence[str]) -> None:
        bad = [s for s in sections if s not in SECTIONS]
        if bad:
            raise ValueError(f"unknown sections {bad}")
        self.sections = list(sections)
        self._got: dict[str, Any] = {}
        self._buf = b""
        self._deadline = time.monotonic() + TIMEOUT
        self._proc: subprocess.Popen[bytes] | None = None
        argv = [sys.executable, "-m", "cniscrub.node.netlink_child", *sections]
        try:
            self._proc = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
            )
        except OSError as exc:  # no usable interpreter: every take() returns None
            log.debug("netlink child not started: %s", exc)

    def _readline(self) -> bytes | None:
        proc = self._proc
        if proc is None or proc.stdout is None:
            return None
        fd = proc.stdout.fileno()
        while b"\n" not in self._buf:
            left = self._deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                log.debug("netlink child timed out")
                return None
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                return None  # exited before this section
            self._buf += chunk
        line, _, self._buf = self._buf.partition(b"\n")
        return line

    def take(self, section: str) -> Any | None:
        """The section's data, or None if the child cannot give it (or was not
        started for it)."""
        if section not in self.sections:
            return None
        if section in self._got:
            return self._got.pop(section)
        while self._proc is not None:
            line = self._readline()
            try:
                if line is None:
                    raise ValueError("no line")
                name, data = parse_line(line)
            except ValueError as exc:
                log.debug("netlink child gave no %s (%s); reading here", section, exc)
                self.close()
                return None
            if name == section:
                return data
            self._got[name] = data
        return None

    def close(self) -> None:
        """Stop the child (whatever it has not sent is not needed any more)."""
        proc, self._proc = self._proc, None
        if proc is not None:
            proc.kill()
            proc.communicate()


def main(argv: Sequence[str]) -> int:
    """The child: every section in order, one JSON line each, over one socket."""
    from cniscrub.node import pyroute2_lean

    pyroute2_lean.install()
    from pyroute2.iproute.linux import IPRoute

    from cniscrub.node import netlink

    if not argv or any(s not in SECTIONS for s in argv):
        sys.stderr.write(f"usage: python -m {__name__} {'|'.join(SECTIONS)}...\n")
        return 2
    with IPRoute() as ipr:
        for section in argv:
            if section == "link-tables":
                data: Any = netlink.link_tables(ipr)
            else:
                data = netlink.dump_with(ipr, section)
            line = json.dumps({"section": section, "data": data}) + "\n"
            sys.stdout.write(line)
            sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
