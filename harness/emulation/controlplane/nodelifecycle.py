"""The node lifecycle controller's health check (test emulation of
kube-controller-manager's ``nodelifecycle`` controller).

A kubelet that stops posting status (its node is powered off) is noticed after
``--node-monitor-grace-period`` (50 s by default since Kubernetes v1.29): every
condition the kubelet owns becomes ``Unknown`` with reason ``NodeStatusUnknown`` and
message ``Kubelet stopped posting node status.``, which ``kubectl get nodes`` shows as
``NotReady``. When the kubelet posts again its own status replaces them.
"""

from __future__ import annotations

import time
from typing import Any

from harness.emulation.apiserver.store import Store
from harness.emulation.controlplane.nodes import condition

UNKNOWN_REASON = "NodeStatusUnknown"
UNKNOWN_MESSAGE = "Kubelet stopped posting node status."
KUBELET_CONDITIONS = ("Ready", "MemoryPressure", "DiskPressure", "PIDPressure")


def is_stale(last_heartbeat: float, grace: float, now: float | None = None) -> bool:
    """True when the kubelet's last status is older than the grace period.

    >>> is_stale(100.0, 50.0, now=149.0), is_stale(100.0, 50.0, now=151.0)
    (False, True)
    """
    return (time.monotonic() if now is None else now) - last_heartbeat > grace


def unknown_conditions() -> list[dict[str, Any]]:
    """The conditions the controller writes for a silent kubelet."""
    return [
        condition(t, "Unknown", UNKNOWN_REASON, UNKNOWN_MESSAGE)
        for t in KUBELET_CONDITIONS
    ]


def mark_unreachable(store: Store, node: str) -> bool:
    """Set the node's kubelet conditions to Unknown; False when already so."""
    obj = store.get("nodes", node)
    current = {
        c["type"]: c.get("status") for c in obj.get("status", {}).get("conditions", [])
    }
    if current.get("Ready") == "Unknown":
        return False
    store.patch(
        "nodes",
        node,
        {"status": {"conditions": unknown_conditions()}},
        "strategic",
        subresource="status",
    )
    return True
