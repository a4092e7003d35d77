"""HTTP face of the Kubernetes API stand-in (a test stand-in, never a product
component): aiohttp routes over a :class:`~.store.Store`.

Serves discovery, ``/openapi/v3``, generic CRUD on ``/api/v1/...`` and
``/apis/{group}/{version}/...`` (``/status`` included), lists with selectors, watches as
chunked JSON lines, and ``Status`` errors. Plain http, or TLS with a cluster CA
(:mod:`.pki`) on the sockets pods use; no authentication (any bearer token is fine).

>>> app = make_app(Store())                                   # doctest: +SKIP
>>> runner = await serve(app, [sock_host, sock_in_netns])     # doctest: +SKIP
>>> server = await start()      # binds 127.0.0.1:<free port>    doctest: +SKIP
>>> server.url, await server.close()                          # doctest: +SKIP
"""

from __future__ import annotations

import json
import logging
import socket
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import yaml
from aiohttp import web

from . import errors
from .audit import AuditedStore, AuditLog
from .audit_http import audit_middleware
from .discovery import Discovery
from .handlers import STORE_KEY, WATCHES_KEY, ApiRequest, handle_api, json_response
from .store import Store
from .watching import WatchStream

__all__ = ["STORE_KEY", "RunningServer", "make_app", "serve", "start"]

log = logging.getLogger(__name__)

_DISCOVERY = Discovery()
_NOT_FOUND = errors.ApiError(
    404, "NotFound", "the server could not find the requested resource"
)


@web.middleware
async def _status_errors(
    request: web.Request,
    handler: Callable[[web.Request], Awaitable[web.StreamResponse]],
) -> web.StreamResponse:
    try:
        return await handler(request)
    except errors.ApiError as exc:
        return json_response(exc.status(), exc.code)
    except web.HTTPNotFound:
        return json_response(_NOT_FOUND.status(), 404)
    except web.HTTPMethodNotAllowed:
        exc2 = errors.method_not_allowed()
        return json_response(exc2.status(), exc2.code)


async def _read_body(request: web.Request) -> Any:
    if not request.body_exists:
        return None
    ctype = request.headers.get("Content-Type", "application/json")
    if "protobuf" in ctype or "cbor" in ctype:
        raise errors.unsupported_media_type(ctype.split(";")[0])
    raw = await request.read()
    if not raw.strip():
        return None
    try:
        if "yaml" in ctype:
            return yaml.safe_load(raw)
        return json.loads(raw)
    except (ValueError, yaml.YAMLError) as exc:
        raise errors.bad_request(f"the request body is not valid: {exc}") from exc


def _parse_path(request: web.Request) -> ApiRequest:
    parts = [p for p in request.path.split("/") if p]
    if parts[0] == "api":
        if len(parts) < 2 or parts[1] != "v1":
            raise _NOT_FOUND
        group, version, rest = "", "v1", parts[2:]
    else:
        if len(parts) < 3:
            raise _NOT_FOUND
        group, version, rest = parts[1], parts[2], parts[3:]
    return ApiRequest.from_parts(group, version, rest)


async def _api(request: web.Request) -> web.StreamResponse:
    parts = [p for p in request.path.split("/") if p]
    if request.method == "GET":
        if parts == ["api"]:
            return json_response(_DISCOVERY.api)
        if parts[0] == "apis" and len(parts) <= 3:
            if len(parts) == 1:
                return json_response(_DISCOVERY.apis)
            if len(parts) == 2 and parts[1] in _DISCOVERY.groups:
                return json_response(_DISCOVERY.groups[parts[1]])
        key = "/".join(parts)
        if key in _DISCOVERY.resource_lists:
            return json_response(_DISCOVERY.resource_lists[key])
    api_request = _parse_path(request)
    body = None
    if request.method in ("POST", "PUT", "PATCH", "DELETE"):
        body = await _read_body(request)
    return await handle_api(request, api_request, body)


async def _version(request: web.Request) -> web.Response:
    return json_response(_DISCOVERY.version)


async def _healthz(request: web.Request) -> web.Response:
    return web.Response(text="ok")


async def _openapi(request: web.Request) -> web.Response:
    tail = request.match_info.get("tail", "")
    if not tail:
        return json_response(_DISCOVERY.openapi_index)
    doc = _DISCOVERY.openapi_docs.get(tail)
    if doc is None:
        raise _NOT_FOUND
    return web.Response(body=doc, content_type="application/json")


async def _on_shutdown(app: web.Application) -> None:
    watches = app[WATCHES_KEY]
    for stream in list(watches):
        stream.stop()


def make_app(store: Store, audit: AuditLog | None = None) -> web.Application:
    """The aiohttp application serving ``store``; several apps may share one store.
    Requests are recorded in ``audit`` (by default the log of an :class:`AuditedStore`)."""
    if audit is None and isinstance(store, AuditedStore):
        audit = store.audit
    middlewares = [_status_errors]
    if audit is not None:
        middlewares.insert(0, audit_middleware(audit))
    app = web.Application(middlewares=middlewares, client_max_size=16 * 2**20)
    app[STORE_KEY] = store
    watches: set[WatchStream] = set()
    app[WATCHES_KEY] = watches
    app.router.add_get("/version", _version)
    for path in ("/healthz", "/readyz", "/livez"):
        app.router.add_get(path, _healthz)
    app.router.add_get("/openapi/v3", _openapi)
    app.router.add_get("/openapi/v3/{tail:.+}", _openapi)
    app.router.add_route("*", "/api", _api)
    app.router.add_route("*", "/api/{tail:.*}", _api)
    app.router.add_route("*", "/apis", _api)
    app.router.add_route("*", "/apis/{tail:.*}", _api)
    app.on_shutdown.append(_on_shutdown)
    return app


async def serve(
    app: web.Application,
    sockets: list[socket.socket],
    tls: ssl.SSLContext | None = None,
    tls_sockets: list[socket.socket] | None = None,
) -> web.AppRunner:
    """Serve ``app`` on already bound (and listening or not) sockets, plain http, and
    with ``tls`` on ``tls_sockets``; the caller stops it with ``await runner.cleanup()``."""
    runner = web.AppRunner(
        app, access_log=None, handler_cancellation=True, shutdown_timeout=2.0
    )
    await runner.setup()
    for sock in sockets:
        await web.SockSite(runner, sock).start()
    for sock in tls_sockets or []:
        await web.SockSite(runner, sock, ssl_context=tls).start()
    return runner


@dataclass
class RunningServer:
    """A started stand-in: its URL, store, app and runner."""

    url: str
    store: Store
    app: web.Application
    runner: web.AppRunner

    async def close(self) -> None:
        await self.runner.cleanup()


async def start(
    host: str = "127.0.0.1", port: int = 0, store: Store | None = None
) -> RunningServer:
    """Bind ``host:port`` (0 picks a free port) and serve a new or given store."""
    store = store if store is not None else Store()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    sock.setblocking(False)
    app = make_app(store)
    runner = await serve(app, [sock])
    bound_port = sock.getsockname()[1]
    log.info("kube API stand-in serving on http://%s:%d", host, bound_port)
    return RunningServer(f"http://{host}:{bound_port}", store, app, runner)
