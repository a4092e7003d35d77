"""Run the flanneld emulation without an API server (test emulation, for sandbox tests).

``python -m harness.emulation.flannel.standalone STATE VERSION [flanneld flags...]``
inside a network namespace. ``STATE`` is a JSON file ``{"node": <Node object>,
"peers": [<Peer fields>...]}``, re-read when it changes (peers added/removed live).
What flanneld would send to the API is written next to it: ``STATE.annotations.json``
and ``STATE.condition.json``.
"""

from __future__ import annotations

import json
import os
import sys
import threading
from collections.abc import Callable
from typing import Any

from harness.emulation.flannel.model import CONDITION, LocalNode, Peer, local_node


class StaticNodeSource:
    """:class:`flanneld.NodeSource` from a JSON state file."""

    def __init__(self, path: str) -> None:
        self.path = path

    def _state(self) -> dict[str, Any]:
        with open(self.path, encoding="utf-8") as f:
            state: dict[str, Any] = json.load(f)
        return state

    def local_node(self) -> LocalNode:
        """The ``node`` object of the state file."""
        return local_node(self._state()["node"])

    def _write(self, suffix: str, data: object) -> None:
        tmp = f"{self.path}.{suffix}.tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(data, f, sort_keys=True)
        os.rename(tmp, f"{self.path}.{suffix}")

    def publish(self, annotations: dict[str, str]) -> None:
        """Record the annotations flanneld patches."""
        self._write("annotations.json", annotations)

    def set_condition(self) -> None:
        """Record the condition flanneld patches."""
        self._write("condition.json", CONDITION)

    def watch(
        self, on_peers: Callable[[list[Peer]], None], stop: threading.Event
    ) -> None:
        """Report ``peers`` whenever the state file changes."""
        last_mtime = -1.0
        while not stop.is_set():
            try:
                mtime = os.stat(self.path).st_mtime_ns / 1e9
                if mtime != last_mtime:
                    last_mtime = mtime
                    on_peers([Peer(**p) for p in self._state().get("peers", [])])
            except (OSError, ValueError):
                pass
            stop.wait(0.1)


def main() -> int:
    """Entry point: STATE VERSION [flags...]."""
    from harness.emulation.flannel import flanneld

    state, version, *flags = sys.argv[1:]
    return flanneld.main(flags, version=version, source=StaticNodeSource(state))


if __name__ == "__main__":
    sys.exit(main())
