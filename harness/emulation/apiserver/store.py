"""The in-memory object store behind the Kubernetes API stand-in (a test stand-in,
never a product component).

The HTTP layer (``server.py``) is a thin view of this store; controllers running in the
same asyncio loop (emulated kubelets, the DaemonSet controller) call it directly. Every
method is synchronous except iteration of a watch, and returns deep copies.

Public API (stable)::

    store = Store(pod_deletion="kubelet", namespace_cleanup_delay=1.0)
    store.create(resource, obj, namespace=None, *, dry_run=False) -> dict
    store.get(resource, name, namespace=None) -> dict
    store.list(resource, namespace=None, label_selector=None, field_selector=None)
        -> list[dict]
    store.replace(resource, name, obj, namespace=None, subresource=None,
                  *, dry_run=False) -> dict
    store.patch(resource, name, patch, patch_type, namespace=None, subresource=None,
                *, dry_run=False) -> dict          # "json" | "merge" | "strategic"
                                                   # | "apply" or a content type
    store.delete(resource, name, namespace=None, grace_period=None,
                 *, propagation_policy=None, preconditions=None) -> dict
    store.watch(resource, namespace=None, label_selector=None, field_selector=None,
                resource_version=None, *, timeout=None) -> WatchStream
    store.subscribe(resource | None, callback) -> unsubscribe()   # callback(Change)
    store.record_event(involved_obj, reason, message, type="Warning",
                       source_component="kubelet", host=None) -> dict
    store.register_kubelet(node_name) / store.unregister_kubelet(node_name)
    store.finalize_pod(name, namespace) -> dict | None

``resource`` is a plural ("pods"), a kind ("DaemonSet"), ``plural.group`` or a
``ResourceType``. Failures raise :class:`~.errors.ApiError` with the real Status.
As on the real server, writes to a resource with a status subresource (nodes, pods,
daemonsets, jobs, ...) keep the stored ``status``; change it with
``subresource="status"`` (which in turn changes nothing else), e.g. a kubelet:
``store.patch("pods", name, {"status": {...}}, "merge", ns, subresource="status")``.
Pods are created ``Pending`` whatever status the body carries; nodes keep theirs.

Pod deletion (``pod_deletion`` policy, default ``"kubelet"``): a pod whose
``spec.nodeName`` is a node with a registered kubelet gets ``deletionTimestamp`` and
``deletionGracePeriodSeconds`` and stays (``MODIFIED``) until that kubelet, having
stopped the containers, calls ``store.finalize_pod(name, ns)`` - the same as
``store.delete("pods", name, ns, grace_period=0)``. Then the pod is removed
(``DELETED``) unless it still carries finalizers. Other pods are removed at once.
Deleting a Namespace marks it ``Terminating``; after ``namespace_cleanup_delay`` seconds
(at once when no loop runs) its contents are deleted, and it goes when they are gone.
Removing an owner deletes its dependents (``ownerReferences``) unless the policy is
``Orphan``.
"""

from __future__ import annotations

import logging
from typing import Any

from . import errors
from .events import EventRecorder
from .lifecycle import Lifecycle
from .objects import DEFAULT_NAMESPACES, clone, ready_to_remove
from .patching import PatchError, apply_patch, normalize_patch_type
from .podlogs import PodLogs
from .resources import RESOURCES, ResourceType, lookup
from .selectors import SelectorError, parse_field, parse_label
from .strategy import prepare_create, prepare_update
from .watching import Change, ChangeHub, Subscriber, WatchStream

__all__ = ["Store"]

log = logging.getLogger(__name__)

Key = tuple[str, str]


class Store:
    """All objects of one emulated cluster, with a global ``resourceVersion``."""

    def __init__(
        self,
        *,
        pod_deletion: str = "kubelet",
        namespace_cleanup_delay: float = 1.0,
        namespaces: tuple[str, ...] = DEFAULT_NAMESPACES,
        history: int = 4096,
    ) -> None:
        self._objects: dict[ResourceType, dict[Key, dict[str, Any]]] = {
            rt: {} for rt in RESOURCES
        }
        self._rv = 0
        self.hub = ChangeHub(history)
        self._events = EventRecorder(self)
        self._lifecycle = Lifecycle(self, pod_deletion, namespace_cleanup_delay)
        self.pod_logs = PodLogs()  # kubelets register here to serve pods/log
        for ns in namespaces:
            self.create("namespaces", {"metadata": {"name": ns}})

    # -- reading ----------------------------------------------------------------
    @property
    def resource_version(self) -> str:
        """The current global resourceVersion (what a list answers)."""
        return str(self._rv)

    def _key(self, rt: ResourceType, name: str, namespace: str | None) -> Key:
        return ((namespace or "default") if rt.namespaced else "", name)

    def _require(self, rt: ResourceType, name: str, ns: str | None) -> dict[str, Any]:
        obj = self._objects[rt].get(self._key(rt, name, ns))
        if obj is None:
            raise errors.not_found(rt, name)
        return obj

    def get(
        self, resource: str | ResourceType, name: str, namespace: str | None = None
    ) -> dict[str, Any]:
        rt = lookup(resource)
        return clone(self._require(rt, name, namespace))

    def list(
        self,
        resource: str | ResourceType,
        namespace: str | None = None,
        label_selector: Any = None,
        field_selector: Any = None,
    ) -> list[dict[str, Any]]:
        rt = lookup(resource)
        try:
            label, field = parse_label(label_selector), parse_field(field_selector)
        except SelectorError as exc:
            raise errors.bad_request(str(exc)) from exc
        out = []
        for (ns, _), obj in sorted(self._objects[rt].items()):
            if namespace and rt.namespaced and ns != namespace:
                continue
            if label.matches(obj["metadata"].get("labels")) and field.matches(obj):
                out.append(clone(obj))
        return out

    # -- writing ----------------------------------------------------------------
    def _commit(
        self,
        rt: ResourceType,
        type_: str,
        obj: dict[str, Any],
        old: dict[str, Any] | None,
    ) -> dict[str, Any]:
        self._rv += 1
        obj["metadata"]["resourceVersion"] = str(self._rv)
        key = self._key(rt, obj["metadata"]["name"], obj["metadata"].get("namespace"))
        if type_ == "DELETED":
            self._objects[rt].pop(key, None)
        else:
            self._objects[rt][key] = obj
        self.hub.publish(Change(type_, rt, obj, old, self._rv))
        if type_ == "DELETED":
            self._lifecycle.after_removal(rt, obj)
        return obj

    def create(
        self,
        resource: str | ResourceType,
        obj: dict[str, Any],
        namespace: str | None = None,
        *,
        dry_run: bool = False,
    ) -> dict[str, Any]:
        rt = lookup(resource)
        new = prepare_create(rt, clone(obj))
        meta = new["metadata"]
        ns = self._lifecycle.admit(rt, meta, namespace)
        if self._objects[rt].get(self._key(rt, meta["name"], ns)) is not None:
            raise errors.already_exists(rt, meta["name"])
        if dry_run:
            return new
        return clone(self._commit(rt, "ADDED", new, None))

    def replace(
        self,
        resource: str | ResourceType,
        name: str,
        obj: dict[str, Any],
        namespace: str | None = None,
        subresource: str | None = None,
        *,
        dry_run: bool = False,
    ) -> dict[str, Any]:
        rt = lookup(resource)
        return self._update(rt, name, namespace, clone(obj), subresource, dry_run)

    def patch(
        self,
        resource: str | ResourceType,
        name: str,
        patch: Any,
        patch_type: str,
        namespace: str | None = None,
        subresource: str | None = None,
        *,
        dry_run: bool = False,
    ) -> dict[str, Any]:
        rt = lookup(resource)
        try:
            kind = normalize_patch_type(patch_type)
        except PatchError as exc:
            raise errors.unsupported_media_type(patch_type) from exc
        current = self._objects[rt].get(self._key(rt, name, namespace))
        if current is None:
            if kind == "apply" and subresource is None:
                body = clone(patch)
                body.setdefault("metadata", {}).setdefault("name", name)
                return self.create(rt, body, namespace, dry_run=dry_run)
            raise errors.not_found(rt, name)
        try:
            new = apply_patch(current, clone(patch), kind)
        except PatchError as exc:
            raise errors.invalid(rt, name, str(exc)) from exc
        return self._update(rt, name, namespace, new, subresource, dry_run)

    def _update(
        self,
        rt: ResourceType,
        name: str,
        namespace: str | None,
        new: dict[str, Any],
        subresource: str | None,
        dry_run: bool,
    ) -> dict[str, Any]:
        old = self._require(rt, name, namespace)
        if subresource not in (None, "status") or (subresource and not rt.has_status):
            raise errors.not_found(rt, f"{name}/{subresource}")
        new = prepare_update(rt, old, new, subresource)
        if new == old or dry_run:
            return clone(new)
        new = clone(new)
        if ready_to_remove(rt, new):
            return clone(self._commit(rt, "DELETED", new, old))
        return clone(self._commit(rt, "MODIFIED", new, old))

    # -- deleting ---------------------------------------------------------------
    def delete(
        self,
        resource: str | ResourceType,
        name: str,
        namespace: str | None = None,
        grace_period: int | None = None,
        *,
        propagation_policy: str | None = None,
        preconditions: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Delete now, or mark terminating (see the module docstring); returns the
        object as removed or as it now stands."""
        return self._lifecycle.delete(
            lookup(resource),
            name,
            namespace,
            grace_period,
            propagation_policy,
            preconditions,
        )

    def register_kubelet(self, node_name: str) -> None:
        """Declare that an emulated kubelet finalizes pods deleted on ``node_name``."""
        self._lifecycle.kubelets.add(node_name)

    def unregister_kubelet(self, node_name: str) -> None:
        self._lifecycle.kubelets.discard(node_name)

    def finalize_pod(
        self, name: str, namespace: str | None = None
    ) -> dict[str, Any] | None:
        """The kubelet's last word on a terminating pod: remove it (grace 0).
        Returns the removed pod, or ``None`` when it was already gone."""
        try:
            return self.delete("pods", name, namespace, grace_period=0)
        except errors.ApiError as exc:
            if exc.code == 404:
                return None
            raise

    # -- watching, subscribing, events ---------------------------------------------
    def watch(
        self,
        resource: str | ResourceType,
        namespace: str | None = None,
        label_selector: Any = None,
        field_selector: Any = None,
        resource_version: str | None = None,
        *,
        timeout: float | None = None,
        copy: bool = True,
    ) -> WatchStream:
        """Stream ``(type, obj)``: without ``resource_version`` (or "0") first an
        ``ADDED`` per existing object, then changes; with one, the changes after it
        (a single ``("ERROR", Status)`` when it is older than the history). Objects
        are private copies unless ``copy=False`` (read-only use, e.g. serialising)."""
        rt = lookup(resource)
        try:
            label, field = parse_label(label_selector), parse_field(field_selector)
        except SelectorError as exc:
            raise errors.bad_request(str(exc)) from exc
        current = (
            self.list(rt, namespace, label, field)
            if resource_version in (None, "", "0")
            else None
        )
        ns = namespace if rt.namespaced else None
        return self.hub.open(
            rt, ns, label, field, resource_version, timeout, current, copy
        )

    def subscribe(
        self, resource: str | ResourceType | None, callback: Subscriber
    ) -> Any:
        """Call ``callback(change)`` synchronously after every change of ``resource``
        (all resources when ``None``); a coroutine result is scheduled as a task.
        Returns a no-argument function that unsubscribes."""
        return self.hub.subscribe(
            None if resource is None else lookup(resource), callback
        )

    def record_event(
        self,
        involved_obj: dict[str, Any],
        reason: str,
        message: str,
        type: str = "Warning",
        source_component: str = "kubelet",
        host: str | None = None,
    ) -> dict[str, Any]:
        """Create (or bump the ``count`` of) a core/v1 Event as kubelet does."""
        return self._events.record(
            involved_obj, reason, message, type, source_component, host
        )

    def close(self) -> None:
        """End every open watch stream."""
        self.hub.stop_all()
