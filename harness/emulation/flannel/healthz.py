"""flanneld ``--healthz-port``: ``/healthz`` and ``/readyz`` (test emulation; §1.3).

``/readyz`` answers 200 only once subnet.env is written (PR #2523).
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler

from harness.emulation.http_listener import Listener


def serve(ip: str, port: int, ready: threading.Event) -> Listener:
    """Start the listener in a daemon thread; call ``shutdown()`` to stop it."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path == "/healthz":
                code, body = 200, b"flanneld is running"
            elif self.path == "/readyz":
                ok = ready.is_set()
                code, body = (
                    (200, b"ok") if ok else (503, b"subnet.env not written yet")
                )
            else:
                code, body = 404, b"not found"
            self.send_response(code)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            return

    server = Listener((ip, port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server
