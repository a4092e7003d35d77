"""Pod logs of the Kubernetes API stand-in (a test stand-in, never a product component):
``GET /api/v1/namespaces/{ns}/pods/{name}/log``, what ``kubectl logs`` and the official
client's ``read_namespaced_pod_log`` call.

As on a real cluster the API server checks the request against the Pod (which
container, has it started) and then asks the kubelet of the pod's node for the bytes:
kubelets register a :class:`LogSource` in ``store.pod_logs``. A node whose kubelet
cannot be reached (powered off) answers the way kube-apiserver relays the dial error.
Query parameters: ``container``, ``previous``, ``tailLines``, ``limitBytes`` and
``follow`` (the log is streamed until the container stops); ``timestamps`` and
``sinceSeconds`` are accepted and ignored (the sandbox keeps no per-line times).

>>> tail(b"a\\nb\\nc\\n", 2)
b'b\\nc\\n'
>>> container_state({"status": {"containerStatuses": [
...     {"name": "c", "restartCount": 1, "state": {"running": {}}}]}}, "c")
('running', 1, '')
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any, Protocol

from aiohttp import web

from . import errors

if TYPE_CHECKING:
    from .store import Store

__all__ = ["LogSource", "LogUnavailable", "PodLogs", "serve_log"]

FOLLOW_POLL = 0.2
KUBELET_PORT = 10250


class LogUnavailable(Exception):
    """The kubelet cannot be reached, or the log file is gone."""


class LogSource(Protocol):
    """What a kubelet offers the API server for logs."""

    def read_container_log(
        self, pod: dict[str, Any], container: str, attempt: int
    ) -> bytes:
        """The whole log of the container's ``attempt`` (restart count); raises
        :class:`LogUnavailable`."""
        ...


class PodLogs:
    """The kubelets that serve logs, by node name."""

    def __init__(self) -> None:
        self._sources: dict[str, LogSource] = {}

    def register(self, node: str, source: LogSource) -> None:
        self._sources[node] = source

    def unregister(self, node: str) -> None:
        self._sources.pop(node, None)

    def get(self, node: str) -> LogSource | None:
        return self._sources.get(node)


def tail(data: bytes, lines: int) -> bytes:
    """The last ``lines`` lines of ``data``."""
    if lines <= 0:
        return b""
    parts = data.splitlines(keepends=True)
    return b"".join(parts[-lines:])


def container_state(pod: dict[str, Any], container: str) -> tuple[str, int, str]:
    """(``waiting``/``running``/``terminated``/``unknown``, restart count, reason) of a
    container as the pod's status reports it."""
    status = pod.get("status") or {}
    for key in ("containerStatuses", "initContainerStatuses"):
        for st in status.get(key) or []:
            if st.get("name") == container:
                state = st.get("state") or {}
                which = next(iter(state), "unknown")
                reason = (state.get(which) or {}).get("reason", "")
                return which, int(st.get("restartCount") or 0), reason
    return "unknown", 0, ""


def _names(pod: dict[str, Any], key: str) -> list[str]:
    return [c["name"] for c in (pod.get("spec") or {}).get(key) or []]


def pick_container(pod: dict[str, Any], asked: str | None) -> str:
    """The container a log request is for, or the API server's 400."""
    name = pod["metadata"]["name"]
    mains, inits = _names(pod, "containers"), _names(pod, "initContainers")
    if asked:
        if asked not in mains and asked not in inits:
            raise errors.bad_request(f"container {asked} is not valid for pod {name}")
        return asked
    if len(mains) == 1:
        return mains[0]
    msg = (
        f"a container name must be specified for pod {name}, "
        f"choose one of: [{' '.join(mains)}]"
    )
    if inits:
        msg += f" or one of the init containers: [{' '.join(inits)}]"
    raise errors.bad_request(msg)


def _attempt(pod: dict[str, Any], container: str, previous: bool) -> int:
    name = pod["metadata"]["name"]
    state, restarts, reason = container_state(pod, container)
    if previous:
        if restarts == 0:
            raise errors.bad_request(
                f'previous terminated container "{container}" in pod "{name}" not found'
            )
        return restarts - 1
    if state in ("waiting", "unknown"):
        raise errors.bad_request(
            f'container "{container}" in pod "{name}" is waiting to start: '
            f"{reason or 'ContainerCreating'}"
        )
    return restarts


def _unreachable(pod: dict[str, Any], container: str, why: str) -> errors.ApiError:
    ip = (pod.get("status") or {}).get("hostIP", "")
    meta = pod["metadata"]
    url = (
        f"https://{ip}:{KUBELET_PORT}/containerLogs/{meta['namespace']}/"
        f"{meta['name']}/{container}"
    )
    return errors.ApiError(500, "InternalError", f'Get "{url}": {why}')


async def _read(
    store: Store, pod: dict[str, Any], container: str, attempt: int
) -> bytes:
    source = store.pod_logs.get(pod["spec"].get("nodeName") or "")
    if source is None:
        raise _unreachable(pod, container, "dial tcp: connect: connection refused")
    try:
        return await asyncio.to_thread(
            source.read_container_log, pod, container, attempt
        )
    except LogUnavailable as exc:
        raise _unreachable(pod, container, str(exc)) from exc


def _int(value: str | None, what: str) -> int | None:
    if value in (None, ""):
        return None
    try:
        return int(value)
    except ValueError:
        raise errors.bad_request(f"invalid {what}: {value!r}") from None


async def serve_log(
    request: web.Request, store: Store, namespace: str | None, name: str
) -> web.StreamResponse:
    """Answer one ``pods/{name}/log`` request."""
    q = request.query
    pod = store.get("pods", name, namespace)
    if not (pod.get("spec") or {}).get("nodeName"):
        raise errors.bad_request(f"pod {name} does not have a host assigned")
    container = pick_container(pod, q.get("container"))
    previous = q.get("previous") in ("true", "1")
    attempt = _attempt(pod, container, previous)
    lines, limit = (
        _int(q.get("tailLines"), "tailLines"),
        _int(q.get("limitBytes"), "limitBytes"),
    )
    full = await _read(store, pod, container, attempt)
    data = full if lines is None else tail(full, lines)
    if q.get("follow") not in ("true", "1") or previous:
        body = data[:limit] if limit else data
        return web.Response(body=body, content_type="text/plain")
    return await _follow(request, store, pod, (container, attempt), data, len(full))


async def _follow(
    request: web.Request,
    store: Store,
    pod: dict[str, Any],
    which: tuple[str, int],
    first: bytes,
    sent: int,
) -> web.StreamResponse:
    """Stream the log as it grows until the container is no longer running; ``sent``
    is how much of the whole log ``first`` covers."""
    container, attempt = which
    response = web.StreamResponse(headers={"Content-Type": "text/plain"})
    response.enable_chunked_encoding()
    await response.prepare(request)
    await response.write(first)
    meta = pod["metadata"]
    while True:
        try:
            current = store.get("pods", meta["name"], meta["namespace"])
        except errors.ApiError:
            break
        running = container_state(current, container)[0] == "running"
        try:
            data = await _read(store, current, container, attempt)
        except errors.ApiError:
            break
        if len(data) > sent:
            await response.write(data[sent:])
            sent = len(data)
        if not running:
            break
        await asyncio.sleep(FOLLOW_POLL)
    await response.write_eof()
    return response
