"""flanneld ``--healthz-port``: ``/healthz`` and ``/readyz`` (test emulation; §1.3).

``/readyz`` answers 200 only once subnet.env is written (PR #2523).
"""

from __future__ import annotations

import threading

from harness.emulation.http_listener import Listener, serve_get


def serve(ip: str, port: int, ready: threading.Event) -> Listener:
    """Start the listener in a daemon thread; call ``shutdown()`` to stop it."""

    def answer(path: str) -> tuple[int, bytes]:
        if path == "/healthz":
            return 200, b"flanneld is running"
        if path == "/readyz":
            return (
                (200, b"ok") if ready.is_set() else (503, b"subnet.env not written yet")
            )
        return 404, b"not found"

    return serve_get((ip, port), answer)
