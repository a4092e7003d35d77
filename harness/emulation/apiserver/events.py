"""Kubelet-style core/v1 Events for the Kubernetes API stand-in (a test stand-in, never
a product component).

:meth:`EventRecorder.record` builds the Event the way client-go's recorder and the
kubelet do: name ``<involved name>.<hex>``, ``involvedObject`` copied from the object,
``source.component``/``source.host``, ``firstTimestamp``/``lastTimestamp`` and
``count``; a repeat of the same (object, reason, message, type) bumps ``count`` like the
event correlator instead of adding another Event. Events for cluster-scoped objects
(Nodes) go to the ``default`` namespace, as kubelet's do.

>>> store.record_event(pod, "FailedCreatePodSandBox", "rpc error: ...",
...                    host="lab-worker")["count"]          # doctest: +SKIP
1
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

from . import errors
from .objects import now

if TYPE_CHECKING:
    from .store import Store

__all__ = ["EventRecorder"]

log = logging.getLogger(__name__)


class EventRecorder:
    """Creates and aggregates Events in one store."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._names: dict[tuple[str, ...], tuple[str, str]] = {}

    def record(
        self,
        involved: dict[str, Any],
        reason: str,
        message: str,
        type_: str = "Warning",
        component: str = "kubelet",
        host: str | None = None,
    ) -> dict[str, Any]:
        meta = involved.get("metadata", {})
        namespace = meta.get("namespace") or "default"
        ref = {
            "kind": involved.get("kind"),
            "apiVersion": involved.get("apiVersion"),
            "name": meta.get("name"),
            "namespace": meta.get("namespace"),
            "uid": meta.get("uid"),
            "resourceVersion": meta.get("resourceVersion"),
        }
        ref = {k: v for k, v in ref.items() if v}
        key = (
            namespace,
            str(ref.get("uid") or ref.get("name")),
            reason,
            message,
            type_,
        )
        stamp = now()
        known = self._names.get(key)
        if known is not None:
            try:
                current = self._store.get("events", known[1], known[0])
            except errors.ApiError:
                current = None
            if current is not None:
                return self._store.patch(
                    "events",
                    known[1],
                    {"count": int(current.get("count", 1)) + 1, "lastTimestamp": stamp},
                    "merge",
                    known[0],
                )
        source = {"component": component, **({"host": host} if host else {})}
        event = {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {
                "name": f"{meta.get('name')}.{time.time_ns():x}",
                "namespace": namespace,
            },
            "involvedObject": ref,
            "reason": reason,
            "message": message,
            "type": type_,
            "source": source,
            "firstTimestamp": stamp,
            "lastTimestamp": stamp,
            "count": 1,
            "reportingComponent": component,
            "reportingInstance": host or "",
        }
        try:
            created = self._store.create("events", event, namespace)
        except (
            errors.ApiError
        ) as exc:  # e.g. namespace terminating: lost, as in reality
            log.debug("event %s on %s dropped: %s", reason, ref.get("name"), exc)
            return event
        self._names[key] = (namespace, created["metadata"]["name"])
        return created
