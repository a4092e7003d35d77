"""The emulated agents' healthz listeners bind without a name lookup.

Python's ``HTTPServer`` resolves its address with ``socket.getfqdn``; in a sandbox node
that DNS query goes to the underlay fabric, which drops it, and v0.28.9's flanneld (whose
manifest passes ``--healthz-port=8081``, fact: flannel-footprint.md §1.3) started 10 s
late. Go's net/http, which flanneld and kube-router use, never resolves it."""

from __future__ import annotations

import socket
import threading
import urllib.request
from collections.abc import Callable

import pytest

from harness.emulation.flannel import healthz
from harness.emulation.kube_router import sockets


@pytest.fixture
def no_name_lookups(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"name lookup {args}: would wait for DNS in a node")

    for name in ("getfqdn", "gethostbyaddr", "gethostbyname", "gethostbyname_ex"):
        monkeypatch.setattr(socket, name, refuse)


def _get(port: int, path: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


@pytest.mark.parametrize(
    "start",
    [
        lambda: healthz.serve("127.0.0.1", 0, threading.Event()),
        lambda: sockets.serve_health(0),
    ],
    ids=["flanneld", "kube-router"],
)
def test_healthz_binds_without_a_name_lookup(
    no_name_lookups: None, start: Callable[[], object]
) -> None:
    server = start()
    try:
        port = server.server_address[1]  # type: ignore[attr-defined]
        assert _get(port, "/healthz")[0] == 200
    finally:
        server.shutdown()  # type: ignore[attr-defined]


def test_flanneld_readyz_follows_the_agent(no_name_lookups: None) -> None:
    ready = threading.Event()
    server = healthz.serve("127.0.0.1", 0, ready)
    try:
        port = server.server_address[1]
        assert _get(port, "/readyz")[0] == 503
        ready.set()
        assert _get(port, "/readyz") == (200, b"ok")
    finally:
        server.shutdown()
