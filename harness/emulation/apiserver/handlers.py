"""Resource handlers of the Kubernetes API stand-in (a test stand-in, never a product
component): turn one parsed REST request into a ``Store`` call and its JSON answer.

Paths: ``{prefix}[/namespaces/{ns}]/{plural}[/{name}[/{subresource}]]`` where
``prefix`` is ``/api/v1`` or ``/apis/{group}/{version}``; ``/api/v1/namespaces/{name}``
is the Namespace object itself. Verbs: GET (get, list, ``?watch=true``), POST, PUT,
PATCH (content type picks json / merge / strategic / apply), DELETE (object, or the
collection with selectors).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from . import errors
from .podlogs import serve_log
from .resources import ResourceType, by_path
from .store import Store
from .tables import to_table, wants_table
from .watching import WatchStream

__all__ = [
    "BOOKMARK_KEY",
    "STORE_KEY",
    "WATCHES_KEY",
    "ApiRequest",
    "handle_api",
    "json_response",
]

log = logging.getLogger(__name__)

STORE_KEY = web.AppKey("store", Store)
BOOKMARK_KEY = web.AppKey("bookmark_interval", float)
BOOKMARK_INTERVAL = 60.0  # kube-apiserver's watch cache: about once a minute
WATCHES_KEY: web.AppKey[set[WatchStream]] = web.AppKey("watches")
_NOT_FOUND = errors.ApiError(
    404, "NotFound", "the server could not find the requested resource"
)
_GRACEFUL = ("pods", "namespaces")
_NS_SUBS = ("status", "finalize")  # /api/v1/namespaces/{name}/{sub}


def json_response(body: Any, status: int = 200) -> web.Response:
    return web.Response(
        body=json.dumps(body, separators=(",", ":")).encode(),
        status=status,
        content_type="application/json",
    )


@dataclass(frozen=True)
class ApiRequest:
    """Which resource, namespace, object and subresource a path addresses."""

    rt: ResourceType
    namespace: str | None
    name: str | None
    subresource: str | None

    @classmethod
    def from_parts(cls, group: str, version: str, rest: list[str]) -> ApiRequest:
        namespace = None
        if len(rest) >= 3 and rest[0] == "namespaces" and rest[2] not in _NS_SUBS:
            namespace, rest = rest[1], rest[2:]
        rt = by_path(group, version, rest[0]) if rest else None
        if rt is None or len(rest) > 3 or (namespace and not rt.namespaced):
            raise _NOT_FOUND
        name = rest[1] if len(rest) > 1 else None
        sub = rest[2] if len(rest) > 2 else None
        if sub is not None and sub not in rt.subresources:
            raise _NOT_FOUND
        return cls(rt, namespace, name, sub)


def _int(value: Any, what: str) -> int | None:
    if value in (None, ""):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise errors.bad_request(f"invalid {what}: {value!r}") from None


async def handle_api(
    request: web.Request, api: ApiRequest, body: Any
) -> web.StreamResponse:
    store = request.app[STORE_KEY]
    q = request.query
    dry_run = "All" in q.getall("dryRun", [])
    method = request.method
    if api.subresource and method not in ("GET", "PUT", "PATCH"):
        raise errors.method_not_allowed()
    if api.subresource == "log":
        if method != "GET" or api.name is None:
            raise errors.method_not_allowed()
        return await serve_log(request, store, api.namespace, api.name)
    if method == "GET":
        table = wants_table(request.headers.get("Accept", ""))
        include = q.get("includeObject", "Metadata")
        if api.name is not None:
            obj = store.get(api.rt, api.name, api.namespace)
            if table:
                return json_response(
                    to_table(api.rt, [obj], store.resource_version, include)
                )
            return json_response(obj)
        if q.get("watch") in ("true", "1"):
            return await _watch(request, store, api, include if table else None)
        rv = store.resource_version
        items = store.list(
            api.rt, api.namespace, q.get("labelSelector"), q.get("fieldSelector")
        )
        if table:
            return json_response(to_table(api.rt, items, rv, include))
        return json_response(
            {
                "kind": f"{api.rt.kind}List",
                "apiVersion": api.rt.api_version,
                "metadata": {"resourceVersion": rv},
                "items": items,
            }
        )
    if method == "POST" and api.name is None:
        if not isinstance(body, dict):
            raise errors.bad_request("the request body must be a JSON object")
        return json_response(
            store.create(api.rt, body, api.namespace, dry_run=dry_run), 201
        )
    if method == "DELETE":
        return _delete(store, api, body if isinstance(body, dict) else {}, q, dry_run)
    if api.name is None:
        raise errors.method_not_allowed()
    if method == "PUT":
        if not isinstance(body, dict):
            raise errors.bad_request("the request body must be a JSON object")
        obj = store.replace(
            api.rt, api.name, body, api.namespace, api.subresource, dry_run=dry_run
        )
        return json_response(obj)
    if method == "PATCH":
        ctype = request.headers.get("Content-Type", "")
        obj = store.patch(
            api.rt,
            api.name,
            body,
            ctype,
            api.namespace,
            api.subresource,
            dry_run=dry_run,
        )
        return json_response(obj)
    raise errors.method_not_allowed()


def _delete(
    store: Store, api: ApiRequest, options: dict[str, Any], q: Any, dry_run: bool
) -> web.Response:
    grace = _int(
        options.get("gracePeriodSeconds", q.get("gracePeriodSeconds")),
        "gracePeriodSeconds",
    )
    policy = options.get("propagationPolicy") or q.get("propagationPolicy")
    if options.get("orphanDependents") is True:
        policy = "Orphan"
    if api.name is None:
        deleted = []
        for obj in store.list(
            api.rt, api.namespace, q.get("labelSelector"), q.get("fieldSelector")
        ):
            meta = obj["metadata"]
            if not dry_run:
                obj = store.delete(
                    api.rt,
                    meta["name"],
                    meta.get("namespace"),
                    grace,
                    propagation_policy=policy,
                )
            deleted.append(obj)
        return json_response(
            {
                "kind": f"{api.rt.kind}List",
                "apiVersion": api.rt.api_version,
                "metadata": {"resourceVersion": store.resource_version},
                "items": deleted,
            }
        )
    if dry_run:
        return json_response(store.get(api.rt, api.name, api.namespace))
    obj = store.delete(
        api.rt,
        api.name,
        api.namespace,
        grace,
        propagation_policy=policy,
        preconditions=options.get("preconditions"),
    )
    try:
        store.get(api.rt, api.name, api.namespace)
        still = True
    except errors.ApiError:
        still = False
    if still or api.rt.plural in _GRACEFUL:
        return json_response(obj, 202 if still else 200)
    return json_response(
        errors.status_success(api.rt, api.name, obj["metadata"].get("uid"))
    )


async def _watch(
    request: web.Request, store: Store, api: ApiRequest, table: str | None
) -> web.StreamResponse:
    """Stream events as JSON lines; with ``table`` (an ``includeObject`` value) each
    object is a one-row ``Table``, the first one carrying the column definitions."""
    q = request.query
    timeout = _int(q.get("timeoutSeconds"), "timeoutSeconds")
    stream = store.watch(
        api.rt,
        api.namespace,
        q.get("labelSelector"),
        q.get("fieldSelector"),
        q.get("resourceVersion"),
        timeout=None if timeout is None else float(timeout),
        copy=False,
    )
    watches = request.app[WATCHES_KEY]
    watches.add(stream)
    response = web.StreamResponse(headers={"Content-Type": "application/json"})
    response.enable_chunked_encoding()
    every = None
    if q.get("allowWatchBookmarks") in ("true", "1") and table is None:
        every = request.app.get(BOOKMARK_KEY, BOOKMARK_INTERVAL)
    try:
        await response.prepare(request)
        async with stream:
            first = True
            async for type_, obj in _with_bookmarks(stream, store, api.rt, every):
                if table is not None and type_ != "ERROR":
                    rv = obj["metadata"].get("resourceVersion", "")
                    obj = to_table(api.rt, [obj], rv, table, with_columns=first)
                    first = False
                line = json.dumps({"type": type_, "object": obj}, separators=(",", ":"))
                await response.write(line.encode() + b"\n")
        await response.write_eof()
    except (ConnectionResetError, ConnectionError):
        log.debug("watch client of %s went away", api.rt)
    finally:
        stream.stop()
        watches.discard(stream)
    return response


async def _with_bookmarks(
    stream: WatchStream, store: Store, rt: ResourceType, every: float | None
) -> AsyncIterator[tuple[str, dict[str, Any]]]:
    """The stream's events, plus a ``BOOKMARK`` (kind, apiVersion and the current
    resourceVersion only) after ``every`` quiet seconds, as kube-apiserver sends to
    clients that allow them: client-go's reflector asks (``allowWatchBookmarks=true``,
    real-flannel.md §3 #3) and resumes from it, so a quiet watch never falls behind."""
    while True:
        try:
            if every is None:
                item = await anext(stream)
            else:
                item = await asyncio.wait_for(anext(stream), every)
        except StopAsyncIteration:
            return
        except TimeoutError:
            meta = {"resourceVersion": store.resource_version}
            yield (
                "BOOKMARK",
                {"kind": rt.kind, "apiVersion": rt.api_version, "metadata": meta},
            )
            continue
        yield item
