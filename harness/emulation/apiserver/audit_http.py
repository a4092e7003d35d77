"""The HTTP side of the stand-in's audit log (a test stand-in, never a product
component): an aiohttp middleware that records every request once it is answered, with
its method, path and query, user agent, status code and the object it addresses, and
that marks the request's store calls as already recorded (see :mod:`.audit`).

Without authentication every HTTP client is ``system:anonymous`` (as kube-apiserver
with anonymous auth says); clients tell themselves apart by their ``User-Agent``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from .audit import ACTOR, Actor, AuditLog, object_ref, verb_of
from .handlers import ApiRequest

__all__ = ["ANONYMOUS", "audit_middleware"]

ANONYMOUS = "system:anonymous"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _object_ref(path: str) -> tuple[dict[str, str] | None, bool]:
    """(objectRef, whether the path names one object) of an API path, or (None, …)
    for discovery, OpenAPI and health paths."""
    parts = [p for p in path.split("/") if p]
    try:
        if parts[:2] == ["api", "v1"]:
            api = ApiRequest.from_parts("", "v1", parts[2:])
        elif parts[:1] == ["apis"] and len(parts) > 3:
            api = ApiRequest.from_parts(parts[1], parts[2], parts[3:])
        else:
            return None, len(parts) > 0
    except Exception:
        return None, True
    return object_ref(api.rt, api.namespace, api.name, api.subresource), bool(api.name)


def _created_name(response: web.StreamResponse) -> str | None:
    body = getattr(response, "body", None)
    if not isinstance(body, bytes):
        return None
    try:
        return str(json.loads(body)["metadata"]["name"])
    except (ValueError, KeyError, TypeError):
        return None


def audit_middleware(log: AuditLog) -> Any:
    """A middleware recording every request in ``log`` (place it outermost, so the
    status code is the one the client gets)."""

    @web.middleware
    async def record(request: web.Request, handler: Handler) -> web.StreamResponse:
        received = time.time()
        actor = Actor(
            ANONYMOUS,
            request.headers.get("User-Agent", ""),
            ("system:unauthenticated",),
            via_http=True,
        )
        token = ACTOR.set(actor)
        code = 500
        created: str | None = None
        try:
            response = await handler(request)
            code = response.status
            if request.method == "POST" and code == 201:
                created = _created_name(response)
            return response
        except web.HTTPException as exc:
            code = exc.status
            raise
        finally:
            ACTOR.reset(token)
            ref, named = _object_ref(request.path)
            if ref is not None and created:  # as kube-apiserver: the new object's name
                ref["name"] = created
            watch = request.query.get("watch") in ("true", "1")
            log.record(
                actor=actor,
                verb=verb_of(request.method, has_name=named, watch=watch),
                uri=request.path_qs,
                code=code,
                received=received,
                ref=ref,
                source_ip=request.remote or "",
            )

    return record
