"""Inventory of running processes (comm and command line) from ``/proc``.

``/proc`` is that of the running cleaner (a pod needs ``hostPID``), never under
``--root``. Each process records whether it shares the cleaner's network namespace
(``same_netns``; None when that cannot be read): a flanneld managing *this* network
namespace is what blocks a cleanup. Processes that have exited but are not yet reaped
(state ``Z``/``X``: their namespaces are gone) are not running and are left out.

>>> parse([{"pid": 42, "comm": "flanneld", "cmdline": "/opt/bin/flanneld --ip-masq"}]
...       )[0].key
'42'
"""

from __future__ import annotations

import os
from typing import Any

from cniscrub.inventory.model import Resource


def _read(path: str, limit: int = 4096) -> str:
    try:
        with open(path, "rb") as fh:
            return (
                fh.read(limit).replace(b"\0", b" ").decode("utf-8", "replace").strip()
            )
    except OSError:
        return ""


def _netns(path: str) -> int | None:
    try:
        return os.stat(path).st_ino
    except OSError:
        return None


def _dead(stat: str) -> bool:
    """``/proc/PID/stat``'s state (after the ``)`` closing comm) is Z or X."""
    return stat.rpartition(")")[2][:3].strip()[:1] in ("Z", "X")


def collect(proc: str = "/proc") -> list[dict[str, Any]]:
    mine = _netns(f"{proc}/self/ns/net")
    out = []
    for name in os.listdir(proc):
        if name.isdigit():
            comm = _read(f"{proc}/{name}/comm", 64)
            if comm and not _dead(_read(f"{proc}/{name}/stat", 512)):
                theirs = _netns(f"{proc}/{name}/ns/net")
                if theirs is None and not os.path.exists(f"{proc}/{name}"):
                    continue  # exited while being read
                same = None if theirs is None or mine is None else theirs == mine
                out.append(
                    {
                        "pid": int(name),
                        "comm": comm,
                        "same_netns": same,
                        "cmdline": _read(f"{proc}/{name}/cmdline")[:300],
                    }
                )
    return out


def parse(raw: list[dict[str, Any]]) -> list[Resource]:
    """Pure: process entries -> ``process`` resources keyed by pid."""
    return [Resource("process", str(p["pid"]), dict(p)) for p in raw]
