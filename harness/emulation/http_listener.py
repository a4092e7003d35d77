"""An HTTP listener for emulated agents' health endpoints inside sandbox nodes.

``http.server.HTTPServer.server_bind`` resolves the host name with ``socket.getfqdn``,
a reverse DNS lookup that waits for resolver timeouts (about 10 s) in a node without
DNS. The agents emulated here (flanneld, kube-router) are Go programs whose listeners
ask nobody, so :class:`Listener` binds without the lookup.

>>> server = Listener(("127.0.0.1", 0), BaseHTTPRequestHandler)
>>> server.server_name
'127.0.0.1'
>>> server.server_close()
"""

from __future__ import annotations

import socketserver
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

__all__ = ["BaseHTTPRequestHandler", "Listener", "serve_get"]

#: path -> (HTTP status, body)
Answer = Callable[[str], tuple[int, bytes]]


class Listener(ThreadingHTTPServer):
    def server_bind(self) -> None:
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name, self.server_port = str(host), int(port)


def serve_get(address: tuple[str, int], answer: Answer) -> Listener:
    """Answer every GET with ``answer(path)`` from a daemon thread, silently (no
    access log); ``shutdown()`` stops it."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            code, body = answer(self.path)
            self.send_response(code)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            return

    server = Listener(address, Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server
