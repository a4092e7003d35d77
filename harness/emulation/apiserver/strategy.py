"""Create and update strategies of the Kubernetes API stand-in (a test stand-in, never
a product component), after kube-apiserver's ``PrepareForCreate`` /
``PrepareForUpdate``: pure functions from the request body (and the stored object) to
what gets stored, raising :class:`~.errors.ApiError` for what the real server refuses.

- create: kind/apiVersion checked and set, ``generateName`` honoured,
  server-owned metadata reset, ``uid``/``creationTimestamp``/``generation: 1`` set,
  and the kind's status and spec defaults (pods ``Pending``, namespaces ``Active``);
- update: the URL name must match, a stale ``resourceVersion`` is a ``Conflict``,
  server-owned metadata is kept, empty maps are dropped (``omitempty``), the main
  resource cannot change ``status`` and ``/status`` can change nothing else,
  ``generation`` moves only when something outside metadata and status changed.
"""

from __future__ import annotations

import uuid
from typing import Any

from . import errors
from .jobspec import job_defaults
from .objects import now, spec_changed
from .resources import ResourceType
from .serviceaccounts import admit_pod

__all__ = ["create_defaults", "prepare_create", "prepare_update"]

_SERVER_META = (
    "name",
    "namespace",
    "uid",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "generation",
)
_OMITEMPTY_META = ("labels", "annotations", "finalizers", "ownerReferences")


def prepare_create(rt: ResourceType, obj: dict[str, Any]) -> dict[str, Any]:
    """The object to store for a create (``obj`` must be a private copy)."""
    kind, api_version = obj.pop("kind", rt.kind), obj.pop("apiVersion", rt.api_version)
    if (kind, api_version) != (rt.kind, rt.api_version):
        raise errors.bad_request(
            f"the API version in the data ({api_version}) and kind ({kind}) do not "
            f"match {rt.api_version} {rt.kind}"
        )
    new = {"kind": rt.kind, "apiVersion": rt.api_version, **obj}
    meta = new.get("metadata") or {}
    new["metadata"] = meta
    if not meta.get("name"):
        if not meta.get("generateName"):
            raise errors.invalid(
                rt,
                "",
                "metadata.name: Required value: name or generateName is required",
            )
        meta["name"] = meta["generateName"] + uuid.uuid4().hex[:5]
    for field in ("deletionTimestamp", "deletionGracePeriodSeconds", "resourceVersion"):
        meta.pop(field, None)
    meta.update(uid=str(uuid.uuid4()), creationTimestamp=now(), generation=1)
    create_defaults(rt, new)
    return new


def prepare_update(
    rt: ResourceType,
    old: dict[str, Any],
    new: dict[str, Any],
    subresource: str | None,
) -> dict[str, Any]:
    """The object to store for an update of ``old`` to ``new`` (a private copy)."""
    name = old["metadata"]["name"]
    meta = new.get("metadata")
    if not isinstance(meta, dict):
        meta = new["metadata"] = {}
    if meta.get("name", name) != name:
        raise errors.bad_request(
            f"the name of the object ({meta.get('name')}) does not match the name on "
            f"the URL ({name})"
        )
    sent_rv = meta.get("resourceVersion")
    if sent_rv and sent_rv != old["metadata"]["resourceVersion"]:
        raise errors.conflict(rt, name)
    for field in _SERVER_META:
        if field in old["metadata"]:
            meta[field] = old["metadata"][field]
        else:
            meta.pop(field, None)
    for field in _OMITEMPTY_META:
        if field in meta and not meta[field]:
            del meta[field]
    new["kind"], new["apiVersion"] = rt.kind, rt.api_version
    if subresource == "status":
        # the status strategies reset spec only (nodeStatusStrategy: newNode.Spec =
        # oldNode.Spec), so metadata such as annotations does change through
        # nodes/status; flanneld relies on it (fact: flannel-footprint.md §2.7:
        # annotations are patched through the status subresource, RBAC nodes/status).
        # pods/status keeps ownerReferences (podStatusStrategy does the same).
        meta["ownerReferences"] = old["metadata"].get("ownerReferences")
        if meta["ownerReferences"] is None:
            del meta["ownerReferences"]
        new = {**old, "metadata": meta, "status": new.get("status", {})}
    elif rt.has_status:
        if "status" in old:
            new["status"] = old["status"]
        else:
            new.pop("status", None)
    if spec_changed(old, new):
        new["metadata"]["generation"] = old["metadata"].get("generation", 1) + 1
    new["metadata"]["resourceVersion"] = old["metadata"]["resourceVersion"]
    return new


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
        admit_pod(obj)  # the ServiceAccount admission plugin: token volume + mounts
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
    elif rt.plural == "jobs":
        job_defaults(obj)
    elif rt.plural == "deployments":
        obj["status"] = {}
