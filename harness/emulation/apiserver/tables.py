"""Server-side printing of the Kubernetes API stand-in (a test stand-in, never a
product component): ``meta.k8s.io/v1`` ``Table`` answers for clients that ask with
``Accept: application/json;as=Table;...`` (kubectl's default human output).

Columns follow kubernetes' ``pkg/printers/internalversion`` for the kinds the harness
shows (Pod READY/STATUS/RESTARTS with ``ContainerCreating``, ``Init:0/2``,
``Terminating``; Node STATUS/ROLES/VERSION; Namespace; DaemonSet; ConfigMap; Event;
Job); every other kind gets NAME and AGE.

>>> table = to_table(lookup("nodes"), [node], "1")        # doctest: +SKIP
>>> table["rows"][0]["cells"][:2]                         # doctest: +SKIP
['node-a', 'Ready']
"""

from __future__ import annotations

import calendar
import time
from collections.abc import Callable
from typing import Any

from .resources import ResourceType

__all__ = ["human_age", "pod_status", "to_table", "wants_table"]

Row = Callable[[dict[str, Any]], list[Any]]


def wants_table(accept: str) -> bool:
    return "as=Table" in accept


def _epoch(timestamp: str) -> float | None:
    try:
        return float(calendar.timegm(time.strptime(timestamp, "%Y-%m-%dT%H:%M:%SZ")))
    except ValueError:
        return None


def human_age(timestamp: str | None) -> str:
    """apimachinery ``HumanDuration`` of the time since ``timestamp``."""
    if not timestamp:
        return "<unknown>"
    then = _epoch(timestamp)
    if then is None:
        return "<invalid>"
    return human_duration(time.time() - then)


def human_duration(seconds: float) -> str:
    """apimachinery ``HumanDuration``: ``59s``, ``3m20s``, ``5h``, ``3d``."""
    s = max(0, int(seconds))
    if s < 120:
        return f"{s}s"
    m = s // 60
    if m < 10:
        return f"{m}m{s % 60}s" if s % 60 else f"{m}m"
    if m < 180:
        return f"{m}m"
    h = m // 60
    if h < 8:
        return f"{h}h{m % 60}m" if m % 60 else f"{h}h"
    if h < 48:
        return f"{h}h"
    return f"{h // 24}d"


def pod_status(pod: dict[str, Any]) -> tuple[str, int, int, int]:
    """(STATUS, ready, total, restarts) as ``kubectl get pods`` shows them."""
    spec, status = pod.get("spec", {}), pod.get("status", {})
    reason = status.get("reason") or status.get("phase") or "Pending"
    inits = spec.get("initContainers") or []
    initializing = False
    restarts = 0
    for i, cs in enumerate(status.get("initContainerStatuses") or []):
        restarts += cs.get("restartCount", 0)
        state = cs.get("state", {})
        term, wait = state.get("terminated"), state.get("waiting")
        if term and term.get("exitCode") == 0:
            continue
        initializing = True
        if term:
            reason = "Init:" + (
                term.get("reason") or f"ExitCode:{term.get('exitCode')}"
            )
        elif wait and wait.get("reason") and wait["reason"] != "PodInitializing":
            reason = "Init:" + wait["reason"]
        else:
            reason = f"Init:{i}/{len(inits)}"
        break
    ready = 0
    for cs in reversed(status.get("containerStatuses") or []):
        restarts += cs.get("restartCount", 0)
        state = cs.get("state", {})
        if initializing:
            continue
        if (state.get("waiting") or {}).get("reason"):
            reason = state["waiting"]["reason"]
        elif (state.get("terminated") or {}).get("reason"):
            reason = state["terminated"]["reason"]
        elif "running" in state and cs.get("ready"):
            ready += 1
    if pod.get("metadata", {}).get("deletionTimestamp"):
        reason = "Terminating"
    return reason, ready, len(spec.get("containers") or []), restarts


def _age(obj: dict[str, Any]) -> str:
    return human_age(obj["metadata"].get("creationTimestamp"))


def _pod(obj: dict[str, Any]) -> list[Any]:
    reason, ready, total, restarts = pod_status(obj)
    return [obj["metadata"]["name"], f"{ready}/{total}", reason, restarts, _age(obj)]


def _node(obj: dict[str, Any]) -> list[Any]:
    conds = {
        c.get("type"): c.get("status")
        for c in obj.get("status", {}).get("conditions") or []
    }
    ready = {"True": "Ready", "False": "NotReady"}.get(
        conds.get("Ready", ""), "Unknown"
    )
    if obj.get("spec", {}).get("unschedulable"):
        ready += ",SchedulingDisabled"
    prefix = "node-role.kubernetes.io/"
    roles = [
        k[len(prefix) :]
        for k in obj["metadata"].get("labels") or {}
        if k.startswith(prefix)
    ]
    version = obj.get("status", {}).get("nodeInfo", {}).get("kubeletVersion", "")
    return [
        obj["metadata"]["name"],
        ready,
        ",".join(roles) or "<none>",
        _age(obj),
        version,
    ]


def _ds(obj: dict[str, Any]) -> list[Any]:
    st = obj.get("status", {})
    selector = (
        obj.get("spec", {}).get("template", {}).get("spec", {}).get("nodeSelector")
        or {}
    )
    return [
        obj["metadata"]["name"],
        st.get("desiredNumberScheduled", 0),
        st.get("currentNumberScheduled", 0),
        st.get("numberReady", 0),
        st.get("updatedNumberScheduled", 0),
        st.get("numberAvailable", 0),
        ",".join(f"{k}={v}" for k, v in selector.items()) or "<none>",
        _age(obj),
    ]


def _event(obj: dict[str, Any]) -> list[Any]:
    inv = obj.get("involvedObject", {})
    return [
        human_age(obj.get("lastTimestamp") or obj["metadata"].get("creationTimestamp")),
        obj.get("type", ""),
        obj.get("reason", ""),
        f"{str(inv.get('kind', '')).lower()}/{inv.get('name', '')}",
        obj.get("message", ""),
    ]


def _job(obj: dict[str, Any]) -> list[Any]:
    st = obj.get("status", {})
    conds = {
        c.get("type") for c in st.get("conditions") or [] if c.get("status") == "True"
    }
    status = (
        "Complete"
        if "Complete" in conds
        else "Failed"
        if "Failed" in conds
        else ("Running")
    )
    completions = obj.get("spec", {}).get("completions", 1)
    start = _epoch(st.get("startTime") or "")
    end = _epoch(st.get("completionTime") or "") or time.time()
    return [
        obj["metadata"]["name"],
        status,
        f"{st.get('succeeded', 0)}/{completions}",
        "" if start is None else human_duration(end - start),
        _age(obj),
    ]


_PRINTERS: dict[str, tuple[list[str], Row]] = {
    "pods": (["Name", "Ready", "Status", "Restarts", "Age"], _pod),
    "nodes": (["Name", "Status", "Roles", "Age", "Version"], _node),
    "namespaces": (
        ["Name", "Status", "Age"],
        lambda o: [
            o["metadata"]["name"],
            o.get("status", {}).get("phase", ""),
            _age(o),
        ],
    ),
    "daemonsets": (
        [
            "Name",
            "Desired",
            "Current",
            "Ready",
            "Up-to-date",
            "Available",
            "Node Selector",
            "Age",
        ],
        _ds,
    ),
    "configmaps": (
        ["Name", "Data", "Age"],
        lambda o: [
            o["metadata"]["name"],
            len(o.get("data") or {}) + len(o.get("binaryData") or {}),
            _age(o),
        ],
    ),
    "events": (["Last Seen", "Type", "Reason", "Object", "Message"], _event),
    "jobs": (["Name", "Status", "Completions", "Duration", "Age"], _job),
}
_DEFAULT: tuple[list[str], Row] = (
    ["Name", "Age"],
    lambda o: [o["metadata"]["name"], _age(o)],
)


def _row_object(obj: dict[str, Any], include: str) -> dict[str, Any] | None:
    if include == "None":
        return None
    if include == "Object":
        return obj
    return {
        "kind": "PartialObjectMetadata",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": obj["metadata"],
    }


def to_table(
    rt: ResourceType,
    objs: list[dict[str, Any]],
    resource_version: str,
    include_object: str = "Metadata",
    with_columns: bool = True,
) -> dict[str, Any]:
    """The ``Table`` for ``objs`` of ``rt``; ``include_object`` is the request's
    ``includeObject`` (``None``, ``Metadata`` - the default - or ``Object``)."""
    names, row = _PRINTERS.get(rt.plural, _DEFAULT)
    columns = [
        {
            "name": n,
            "type": "integer" if n in ("Restarts", "Data") else "string",
            "format": "name" if n == "Name" else "",
            "description": n,
            "priority": 0,
        }
        for n in names
    ]
    table: dict[str, Any] = {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": {"resourceVersion": resource_version},
        "columnDefinitions": columns if with_columns else [],
        "rows": [],
    }
    for obj in objs:
        entry: dict[str, Any] = {"cells": row(obj)}
        embedded = _row_object(obj, include_object)
        if embedded is not None:
            entry["object"] = embedded
        table["rows"].append(entry)
    return table
