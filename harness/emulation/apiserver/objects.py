"""Object helpers of the Kubernetes API stand-in (a test stand-in, never a product
component): fast JSON copies, RFC 3339 timestamps, and the rules that say when the
generation moves and when a terminating object may go.

>>> clone({"a": [1, {"b": 2}]})
{'a': [1, {'b': 2}]}
>>> spec_changed({"spec": {"x": 1}}, {"spec": {"x": 1}, "status": {"y": 2}})
False
"""

from __future__ import annotations

import time
from typing import Any

from .resources import ResourceType

__all__ = [
    "DEFAULT_NAMESPACES",
    "POD_DELETION_POLICIES",
    "clone",
    "now",
    "ready_to_remove",
    "spec_changed",
]

#: namespaces every fresh store holds, as a kubeadm cluster does.
DEFAULT_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")

#: who removes a deleted pod (see ``Store``):
#: ``kubelet`` - pods bound to a node with a registered emulated kubelet terminate
#: gracefully and stay until that kubelet finalizes them; other pods go at once.
#: ``graceful`` - every pod bound to a node terminates and waits for finalization.
#: ``immediate`` - every pod is removed at once.
POD_DELETION_POLICIES = ("kubelet", "graceful", "immediate")


def clone(value: Any) -> Any:
    """Deep copy of a JSON value (several times faster than ``copy.deepcopy``)."""
    if type(value) is dict:
        return {k: clone(v) for k, v in value.items()}
    if type(value) is list:
        return [clone(v) for v in value]
    return value


def now(offset: float = 0.0) -> str:
    """UTC time as the API server writes it: ``2026-11-27T05:45:55Z``."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + offset))


def _body(obj: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in obj.items() if k not in ("metadata", "status")}


def spec_changed(old: dict[str, Any], new: dict[str, Any]) -> bool:
    """True when anything but metadata and status differs (bumps ``generation``)."""
    return _body(old) != _body(new)


def ready_to_remove(rt: ResourceType, obj: dict[str, Any]) -> bool:
    """A terminating object goes once its finalizers are gone; a pod also needs its
    grace period set to 0 (by the kubelet, or a forced delete)."""
    meta = obj.get("metadata", {})
    if not meta.get("deletionTimestamp") or meta.get("finalizers"):
        return False
    if rt.plural == "pods":
        return meta.get("deletionGracePeriodSeconds") == 0
    return rt.plural != "namespaces"
