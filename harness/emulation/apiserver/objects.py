"""Object helpers of the Kubernetes API stand-in (a test stand-in, never a product
component): fast JSON copies, RFC 3339 timestamps, the defaults the real API server
fills in on create, and the rules that say when a terminating object may go.

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
    "create_defaults",
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


def create_defaults(rt: ResourceType, obj: dict[str, Any]) -> None:
    """Fill in what the real API server's create strategy sets (in place)."""
    meta = obj["metadata"]
    if rt.plural == "namespaces":
        labels = meta.setdefault("labels", {}) or {}
        labels["kubernetes.io/metadata.name"] = meta["name"]
        meta["labels"] = labels
        obj.setdefault("spec", {}).setdefault("finalizers", ["kubernetes"])
        obj["status"] = {"phase": "Active"}
    elif rt.plural == "pods":
        obj["status"] = {"phase": "Pending", "qosClass": "BestEffort"}
        spec = obj.setdefault("spec", {})
        spec.setdefault("restartPolicy", "Always")
        spec.setdefault("terminationGracePeriodSeconds", 30)
        spec.setdefault("dnsPolicy", "ClusterFirst")
        spec.setdefault("schedulerName", "default-scheduler")
        spec.setdefault("serviceAccountName", "default")
    elif rt.plural == "daemonsets":
        obj["status"] = {
            "currentNumberScheduled": 0,
            "numberMisscheduled": 0,
            "desiredNumberScheduled": 0,
            "numberReady": 0,
        }
        obj.setdefault("spec", {}).setdefault(
            "updateStrategy",
            {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1}},
        )
    elif rt.plural in ("jobs", "deployments"):
        obj["status"] = {}


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
