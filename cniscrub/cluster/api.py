"""The requests ``cniscrub cluster`` makes, through the official client's
``ApiClient`` (its request building, authentication and TLS), on plain JSON: every
object is a ``dict``, every write is an :class:`~cniscrub.cluster.model.ApiCall` from
the plan, so what runs is exactly what ``--dry-run`` prints.

Failures become :mod:`cniscrub.cluster.errors` with the server's own message (its
``Status``), or say which server could not be reached.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

from cniscrub.cluster.client import kubernetes
from cniscrub.cluster.errors import ApiFailure, Conflict, NotFound
from cniscrub.cluster.kinds import kind
from cniscrub.cluster.model import ApiCall

log = logging.getLogger(__name__)
REQUEST_TIMEOUT = 30.0
JSON = "application/json"


def _message(status: int, raw: bytes) -> str:
    try:
        doc = json.loads(raw)
        return str(doc.get("message") or doc)
    except ValueError:
        return raw.decode(errors="replace").strip() or f"HTTP {status}"


def raise_for(status: int, raw: bytes, what: str) -> None:
    """The error a non-2xx answer means (404 and 409 have their own classes)."""
    if 200 <= status < 300:
        return
    text = f"{what}: {_message(status, raw)} ({status})"
    cls = {404: NotFound, 409: Conflict}.get(status, ApiFailure)
    raise cls(text, status)


class Api:
    """One cluster's API server, through an ``ApiClient``."""

    def __init__(self, api_client: Any) -> None:
        self.client = api_client
        self.server = str(api_client.configuration.host)

    # -- generic ---------------------------------------------------------------------
    def request(self, call: ApiCall) -> Any:
        """Send ``call``; its JSON answer (None when empty)."""
        headers = {"Accept": JSON}
        if call.body is not None:
            headers["Content-Type"] = call.content_type or JSON
        try:
            serialized = self.client.param_serialize(
                call.method,
                call.path,
                query_params=list(call.query),
                header_params=headers,
                body=call.body,
                auth_settings=["BearerToken"],
            )
            response = self.client.call_api(
                *serialized, _request_timeout=REQUEST_TIMEOUT
            )
            raw = response.read() or b""
        except Exception as exc:  # urllib3: connection refused, TLS, timeouts
            if isinstance(exc, ApiFailure):
                raise
            raise ApiFailure(
                f"cannot reach the API server at {self.server}: {exc}"
            ) from None
        log.debug("%s -> %s", call.line()[:200], response.status)
        raise_for(response.status, raw, call.line()[:200])
        return json.loads(raw) if raw.strip() else None

    def get(self, kind_name: str, name: str, namespace: str | None = None) -> Any:
        return self.request(ApiCall("GET", kind(kind_name).path(namespace, name)))

    def find(self, kind_name: str, name: str, namespace: str | None = None) -> Any:
        """The object, or None when it is not there."""
        try:
            return self.get(kind_name, name, namespace)
        except NotFound:
            return None

    def list(
        self,
        kind_name: str,
        namespace: str | None = None,
        labels: str | None = None,
        fields: str | None = None,
    ) -> list[dict[str, Any]]:
        query = tuple(
            (k, v)
            for k, v in (("labelSelector", labels), ("fieldSelector", fields))
            if v
        )
        doc = self.request(ApiCall("GET", kind(kind_name).path(namespace), query))
        return list((doc or {}).get("items") or [])

    # -- pods: logs and watches ------------------------------------------------------
    def read_log(self, namespace: str, pod: str, container: str) -> str:
        """The container's log (``read_namespaced_pod_log``)."""
        k8s = kubernetes()
        core = k8s.client.CoreV1Api(self.client)
        try:
            text = core.read_namespaced_pod_log(
                pod, namespace, container=container, _request_timeout=REQUEST_TIMEOUT
            )
        except k8s.client.ApiException as exc:
            raw = exc.body.encode() if isinstance(exc.body, str) else exc.body or b""
            raise_for(int(exc.status or 500), raw, f"log of pod {namespace}/{pod}")
            raise
        return str(text)

    def watch_pods(
        self, namespace: str, labels: str, timeout: int, resource_version: str | None
    ) -> Iterator[tuple[str, dict[str, Any]]]:
        """Events ``(type, pod)`` of the pods matching ``labels`` for up to
        ``timeout`` seconds (from ``resource_version`` when given)."""
        k8s = kubernetes()
        core = k8s.client.CoreV1Api(self.client)
        kwargs: dict[str, Any] = {
            "label_selector": labels,
            "timeout_seconds": timeout,
            "deserialize": False,
            "_request_timeout": timeout + REQUEST_TIMEOUT,
        }
        if resource_version:
            kwargs["resource_version"] = resource_version
        watch = k8s.watch.Watch()
        try:
            for event in watch.stream(core.list_namespaced_pod, namespace, **kwargs):
                obj = event.get("raw_object") or event.get("object")
                yield str(event.get("type")), obj if isinstance(obj, dict) else {}
        finally:
            watch.stop()
