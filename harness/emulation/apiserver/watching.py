"""Change fan-out of the Kubernetes API stand-in (a test stand-in, never a product
component): every mutation of the ``Store`` becomes a :class:`Change`, kept in a bounded
history (so a watch can resume from a ``resourceVersion``) and pushed to watch streams
and in-process subscribers.

A :class:`WatchStream` is an async iterator of ``(type, obj)`` with the API server's
selector semantics: an object that starts matching arrives as ``ADDED``, one that stops
matching as ``DELETED``. It ends after ``timeout`` seconds, or when :meth:`stop` is
called; use it as an async context manager so it is always unregistered::

    async with store.watch("pods", namespace="kube-flannel") as stream:
        async for type_, pod in stream:
            ...
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from . import errors
from .objects import clone
from .resources import ResourceType
from .selectors import FieldSelector, LabelSelector

__all__ = ["Change", "ChangeHub", "Subscriber", "WatchStream"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Change:
    """One stored mutation: the object after it (for ``DELETED``: as removed) and
    before it. Each subscriber gets its own copies."""

    type: str  # ADDED | MODIFIED | DELETED
    resource: ResourceType
    obj: dict[str, Any]
    old: dict[str, Any] | None
    resource_version: int


Subscriber = Callable[[Change], Any]


class WatchStream:
    """An async iterator of ``(type, obj)`` events for one resource and filter."""

    def __init__(
        self,
        hub: ChangeHub,
        resource: ResourceType,
        namespace: str | None,
        label: LabelSelector,
        field: FieldSelector,
        timeout: float | None,
        copy: bool = True,
    ) -> None:
        self._hub = hub
        self.resource = resource
        self.namespace = namespace
        self._label = label
        self._field = field
        self._timeout = timeout
        self._deadline: float | None = None
        self._queue: asyncio.Queue[tuple[str, dict[str, Any]] | None] = asyncio.Queue()
        self._stopped = False
        self.copy = copy

    def matches(self, obj: dict[str, Any] | None) -> bool:
        if obj is None:
            return False
        meta = obj.get("metadata", {})
        if self.namespace and meta.get("namespace") != self.namespace:
            return False
        return self._label.matches(meta.get("labels")) and self._field.matches(obj)

    def push(self, type_: str, obj: dict[str, Any]) -> None:
        if not self._stopped:
            self._queue.put_nowait((type_, obj))

    def offer(self, change: Change) -> None:
        """Translate a change through this stream's filters and queue it."""
        if change.resource is not self.resource:
            return
        now = self.matches(change.obj)
        if change.type != "MODIFIED":
            if now:
                self.push(change.type, change.obj)
            return
        before = self.matches(change.old)
        if now and before:
            self.push("MODIFIED", change.obj)
        elif now:
            self.push("ADDED", change.obj)
        elif before:
            self.push("DELETED", change.obj)

    def stop(self) -> None:
        """End the stream: the iterator finishes after the queued events."""
        if not self._stopped:
            self._stopped = True
            self._queue.put_nowait(None)
            self._hub.watchers.discard(self)

    def __aiter__(self) -> WatchStream:
        return self

    async def __anext__(self) -> tuple[str, dict[str, Any]]:
        loop = asyncio.get_running_loop()
        if self._deadline is None and self._timeout is not None:
            self._deadline = loop.time() + self._timeout
        remaining = None if self._deadline is None else self._deadline - loop.time()
        try:
            if remaining is not None and remaining <= 0 and self._queue.empty():
                raise TimeoutError
            item = await asyncio.wait_for(self._queue.get(), remaining)
        except TimeoutError:
            item = None
        if item is None:
            self.stop()
            raise StopAsyncIteration
        return (item[0], clone(item[1])) if self.copy else item

    async def __aenter__(self) -> WatchStream:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.stop()


class ChangeHub:
    """History plus fan-out of changes to watch streams and subscribers."""

    def __init__(self, history: int = 4096) -> None:
        self.history: deque[Change] = deque(maxlen=history)
        self.watchers: set[WatchStream] = set()
        self._subscribers: list[tuple[ResourceType | None, Subscriber]] = []
        self._tasks: set[asyncio.Task[Any]] = set()
        self._pending: deque[Change] = deque()
        self._publishing = False

    def subscribe(
        self, resource: ResourceType | None, callback: Subscriber
    ) -> Callable[[], None]:
        """Call ``callback(change)`` after each change (of ``resource``, or of all)."""
        entry = (resource, callback)
        self._subscribers.append(entry)

        def unsubscribe() -> None:
            if entry in self._subscribers:
                self._subscribers.remove(entry)

        return unsubscribe

    def publish(self, change: Change) -> None:
        """Record ``change`` and deliver it. A change made by a subscriber while
        another is delivered waits its turn, so everyone sees resourceVersion order."""
        self.history.append(change)
        self._pending.append(change)
        if self._publishing:
            return
        self._publishing = True
        try:
            while self._pending:
                self._deliver(self._pending.popleft())
        finally:
            self._publishing = False

    def _deliver(self, change: Change) -> None:
        for stream in list(self.watchers):
            stream.offer(change)
        for resource, callback in list(self._subscribers):
            if resource is not None and resource is not change.resource:
                continue
            try:
                own = replace(change, obj=clone(change.obj), old=clone(change.old))
                result = callback(own)
            except Exception:
                log.exception("subscriber %r failed on %s", callback, change.type)
                continue
            if inspect.isawaitable(result):
                task = asyncio.ensure_future(result)
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)

    def open(
        self,
        resource: ResourceType,
        namespace: str | None,
        label: LabelSelector,
        field: FieldSelector,
        resource_version: str | None,
        timeout: float | None,
        current: list[dict[str, Any]] | None,
        copy: bool = True,
    ) -> WatchStream:
        """Register a stream: ``current`` objects first (as ``ADDED``) when given,
        else the history after ``resource_version`` (or one ``ERROR`` if lost)."""
        stream = WatchStream(self, resource, namespace, label, field, timeout, copy)
        if current is not None:
            self.watchers.add(stream)
            for obj in current:
                stream.push("ADDED", obj)
            return stream
        try:
            backlog = self.since(int(str(resource_version)))
        except ValueError as exc:
            raise errors.bad_request(
                f"invalid resourceVersion {resource_version!r}"
            ) from exc
        self.watchers.add(stream)
        if backlog is None:
            stream.push("ERROR", errors.expired(str(resource_version)).status())
            stream.stop()
        for change in backlog or ():
            stream.offer(change)
        return stream

    def since(self, resource_version: int) -> list[Change] | None:
        """Changes after ``resource_version``; ``None`` if the history lost some."""
        if self.history and self.history[0].resource_version > resource_version + 1:
            return None
        return [c for c in self.history if c.resource_version > resource_version]

    def stop_all(self) -> None:
        for stream in list(self.watchers):
            stream.stop()
