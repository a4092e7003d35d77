"""The kube-router emulation's listening sockets and its stand-in for BGP sessions
(test emulation).

kube-router-footprint.md §2.6: BGP on TCP 179 of the node IP, GoBGP's gRPC on
127.0.0.1:50051, health HTTP on :20244 (``/healthz``). Routes are learned over an iBGP
full mesh on TCP 179 (§2.3); the emulation does not speak BGP: a peer's session is
"established" while its TCP 179 accepts a connection, and what a session would carry
(the peer's pod CIDR) comes from its Node object.
"""

from __future__ import annotations

import socket
import threading

from harness.emulation import http_listener

GRPC = ("127.0.0.1", 50051)
PROBE_TIMEOUT = 0.5


class Listener:
    """A TCP port that accepts and closes connections, in a daemon thread."""

    def __init__(self, address: tuple[str, int]) -> None:
        self.sock = socket.create_server(address, reuse_port=False)
        self.sock.settimeout(0.2)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except (TimeoutError, OSError):
                continue
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self.sock.close()


def session_up(peer_ip: str, port: int) -> bool:
    """Whether the peer's BGP port accepts a connection now."""
    try:
        with socket.create_connection((peer_ip, port), timeout=PROBE_TIMEOUT):
            return True
    except OSError:
        return False


def serve_health(port: int) -> http_listener.Listener:
    """``/healthz`` on ``:port``; ``shutdown()`` stops it."""
    return http_listener.serve_get(
        ("0.0.0.0", port),
        lambda path: (200, b"OK\n") if path == "/healthz" else (404, b""),
    )
