"""Deletion rules of the Kubernetes API stand-in (a test stand-in, never a product
component): graceful pod termination left to the emulated kubelet, finalizers,
namespace termination with its content cascade, and owner-reference garbage collection
(what kube-controller-manager's namespace and GC controllers do, done in-process).

``Store`` delegates ``delete``, ``register_kubelet``, ``unregister_kubelet`` and
``finalize_pod`` here; see the ``store`` module docstring for the contract.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from . import errors
from .objects import POD_DELETION_POLICIES, clone, now, ready_to_remove
from .resources import RESOURCES, ResourceType, lookup

if TYPE_CHECKING:
    from .store import Store

__all__ = ["Lifecycle"]

log = logging.getLogger(__name__)

_NAMESPACES = lookup("namespaces")
_PODS = lookup("pods")


class Lifecycle:
    """Deletion behaviour of one store."""

    def __init__(self, store: Store, pod_deletion: str, cleanup_delay: float) -> None:
        if pod_deletion not in POD_DELETION_POLICIES:
            raise ValueError(f"pod_deletion must be one of {POD_DELETION_POLICIES}")
        self._store = store
        self.pod_deletion = pod_deletion
        self.cleanup_delay = cleanup_delay
        self.kubelets: set[str] = set()
        self._orphaning: set[str] = set()

    # -- admission ------------------------------------------------------------------
    def admit(
        self, rt: ResourceType, meta: dict[str, Any], namespace: str | None
    ) -> str | None:
        """Settle the namespace of a new object (NamespaceLifecycle admission): it
        must exist and not be terminating. Returns it (``None`` if cluster-scoped)."""
        if not rt.namespaced:
            meta.pop("namespace", None)
            return None
        if namespace and meta.get("namespace") not in (None, "", namespace):
            raise errors.bad_request(
                "the namespace of the provided object does not match the namespace "
                "sent on the request"
            )
        ns = str(namespace or meta.get("namespace") or "default")
        meta["namespace"] = ns
        ns_obj = self._store._objects[_NAMESPACES].get(("", ns))
        if ns_obj is None:
            raise errors.not_found(_NAMESPACES, ns)
        if ns_obj["metadata"].get("deletionTimestamp"):
            raise errors.forbidden(
                f'{rt} "{meta["name"]}" is forbidden: unable to create new content in '
                f"namespace {ns} because it is being terminated"
            )
        return ns

    # -- pods -----------------------------------------------------------------------
    def _grace(self, rt: ResourceType, obj: dict[str, Any], grace: int | None) -> int:
        if rt is not _PODS or self.pod_deletion == "immediate" or grace == 0:
            return 0
        node = obj.get("spec", {}).get("nodeName")
        if not node or (self.pod_deletion == "kubelet" and node not in self.kubelets):
            return 0
        if grace is not None:
            return max(int(grace), 1)
        return int(obj["spec"].get("terminationGracePeriodSeconds") or 30)

    # -- delete ---------------------------------------------------------------------
    def delete(
        self,
        rt: ResourceType,
        name: str,
        namespace: str | None,
        grace_period: int | None,
        propagation_policy: str | None,
        preconditions: dict[str, Any] | None,
    ) -> dict[str, Any]:
        store = self._store
        obj = store._require(rt, name, namespace)
        meta = obj["metadata"]
        for field in ("uid", "resourceVersion"):
            wanted = (preconditions or {}).get(field)
            if wanted and wanted != meta.get(field):
                raise errors.conflict(
                    rt,
                    name,
                    f"Precondition failed: {field} in "
                    f"precondition: {wanted}, {field} in object "
                    f"meta: {meta.get(field)}",
                )
        if rt is _NAMESPACES:
            return self._terminate_namespace(obj)
        if propagation_policy == "Orphan":
            self._orphaning.add(meta["uid"])
        grace = self._grace(rt, obj, grace_period)
        if meta.get("deletionTimestamp"):
            if grace != 0 or meta.get("deletionGracePeriodSeconds") == 0:
                return clone(obj)
        elif grace == 0 and not meta.get("finalizers"):
            return clone(store._commit(rt, "DELETED", clone(obj), obj))
        new = clone(obj)
        new["metadata"]["deletionTimestamp"] = now(grace)
        new["metadata"]["deletionGracePeriodSeconds"] = grace
        type_ = "DELETED" if ready_to_remove(rt, new) else "MODIFIED"
        return clone(store._commit(rt, type_, new, obj))

    # -- namespaces -----------------------------------------------------------------
    def _terminate_namespace(self, obj: dict[str, Any]) -> dict[str, Any]:
        name = obj["metadata"]["name"]
        if obj["metadata"].get("deletionTimestamp"):
            return clone(obj)
        new = clone(obj)
        new["metadata"]["deletionTimestamp"] = now()
        new["metadata"]["deletionGracePeriodSeconds"] = 0
        new["status"] = {"phase": "Terminating"}
        result = clone(self._store._commit(_NAMESPACES, "MODIFIED", new, obj))
        try:
            loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        if loop is not None and self.cleanup_delay > 0:
            loop.call_later(self.cleanup_delay, self._cascade, name)
        else:
            self._cascade(name)
        return result

    def _cascade(self, namespace: str) -> None:
        for rt in RESOURCES:
            if not rt.namespaced:
                continue
            for ns, name in list(self._store._objects[rt]):
                if ns != namespace:
                    continue
                try:
                    self.delete(rt, name, ns, None, None, None)
                except errors.ApiError:
                    pass  # already gone through garbage collection
        self._maybe_finish_namespace(namespace)

    def _maybe_finish_namespace(self, namespace: str) -> None:
        ns_obj = self._store._objects[_NAMESPACES].get(("", namespace))
        if ns_obj is None or not ns_obj["metadata"].get("deletionTimestamp"):
            return
        if ns_obj["metadata"].get("finalizers"):
            return
        for rt in RESOURCES:
            if rt.namespaced and any(
                ns == namespace for ns, _ in self._store._objects[rt]
            ):
                return
        self._store._commit(_NAMESPACES, "DELETED", clone(ns_obj), ns_obj)

    # -- garbage collection ---------------------------------------------------------
    def after_removal(self, rt: ResourceType, obj: dict[str, Any]) -> None:
        meta = obj["metadata"]
        uid = meta.get("uid")
        orphan = uid in self._orphaning
        self._orphaning.discard(uid)
        for dep_rt in RESOURCES:
            if rt.namespaced and not dep_rt.namespaced:
                continue
            for (ns, name), dep in list(self._store._objects[dep_rt].items()):
                refs = dep["metadata"].get("ownerReferences") or []
                if not any(r.get("uid") == uid for r in refs):
                    continue
                if rt.namespaced and ns != meta.get("namespace"):
                    continue
                rest = [r for r in refs if r.get("uid") != uid]
                if orphan or rest:
                    new = clone(dep)
                    new["metadata"]["ownerReferences"] = rest
                    if not rest:
                        del new["metadata"]["ownerReferences"]
                    self._store._commit(dep_rt, "MODIFIED", new, dep)
                else:
                    try:
                        self.delete(dep_rt, name, ns or None, None, None, None)
                    except errors.ApiError:
                        log.debug("dependent %s %s already gone", dep_rt, name)
        if rt.namespaced and meta.get("namespace"):
            self._maybe_finish_namespace(meta["namespace"])
