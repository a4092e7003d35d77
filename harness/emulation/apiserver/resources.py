"""The resource registry of the Kubernetes API stand-in (a test stand-in, never a
product component).

A :class:`ResourceType` names one REST resource the way discovery does: group, version,
plural, kind, whether it is namespaced, and its subresources. :data:`RESOURCES` is the
fixed table the stand-in serves; :func:`lookup` resolves what callers pass to the
``Store`` ("pods", "daemonsets.apps", "apps/v1/daemonsets", a kind name, or a
``ResourceType``).

>>> lookup("daemonsets").api_version
'apps/v1'
>>> lookup("Pod").path(namespace="kube-system", name="p1")
'/api/v1/namespaces/kube-system/pods/p1'
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["RESOURCES", "ResourceType", "UnknownResourceError", "by_path", "lookup"]

_VERBS = ("create", "delete", "deletecollection", "get", "list", "patch", "update")
_VERBS_WATCH = (*_VERBS, "watch")


class UnknownResourceError(KeyError):
    """Raised when a resource name matches nothing in :data:`RESOURCES`."""


@dataclass(frozen=True)
class ResourceType:
    """One REST resource of the stand-in, as the discovery documents describe it."""

    group: str
    version: str
    plural: str
    kind: str
    namespaced: bool
    subresources: tuple[str, ...] = ()
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    verbs: tuple[str, ...] = field(default=_VERBS_WATCH)

    @property
    def api_version(self) -> str:
        """``v1`` for the core group, ``group/version`` otherwise."""
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def singular(self) -> str:
        return self.kind.lower()

    @property
    def has_status(self) -> bool:
        return "status" in self.subresources

    @property
    def prefix(self) -> str:
        """URL prefix of the group-version: ``/api/v1`` or ``/apis/apps/v1``."""
        return f"/apis/{self.api_version}" if self.group else "/api/v1"

    def path(self, namespace: str | None = None, name: str | None = None) -> str:
        """REST path of the collection, or of one object when ``name`` is given."""
        parts = [self.prefix]
        if self.namespaced and namespace:
            parts.append(f"namespaces/{namespace}")
        parts.append(self.plural)
        if name:
            parts.append(name)
        return "/".join(parts)

    def __str__(self) -> str:
        return f"{self.plural}.{self.group}" if self.group else self.plural


def _r(
    group: str,
    plural: str,
    kind: str,
    namespaced: bool,
    *,
    status: bool = False,
    short: tuple[str, ...] = (),
    categories: tuple[str, ...] = (),
    version: str = "v1",
) -> ResourceType:
    return ResourceType(
        group=group,
        version=version,
        plural=plural,
        kind=kind,
        namespaced=namespaced,
        subresources=("status",) if status else (),
        short_names=short,
        categories=categories,
    )


RESOURCES: tuple[ResourceType, ...] = (
    _r("", "namespaces", "Namespace", False, status=True, short=("ns",)),
    _r("", "nodes", "Node", False, status=True, short=("no",)),
    ResourceType(  # pods/log: kubelet-served logs (podlogs.py)
        "", "v1", "pods", "Pod", True, ("status", "log"), ("po",), ("all",)
    ),
    _r("", "configmaps", "ConfigMap", True, short=("cm",)),
    _r("", "secrets", "Secret", True),
    _r("", "serviceaccounts", "ServiceAccount", True, short=("sa",)),
    _r("", "services", "Service", True, status=True, short=("svc",)),
    _r("", "events", "Event", True, short=("ev",)),
    _r("apps", "daemonsets", "DaemonSet", True, status=True, short=("ds",)),
    _r("apps", "deployments", "Deployment", True, status=True, short=("deploy",)),
    _r("batch", "jobs", "Job", True, status=True, categories=("all",)),
    _r("rbac.authorization.k8s.io", "clusterroles", "ClusterRole", False),
    _r("rbac.authorization.k8s.io", "clusterrolebindings", "ClusterRoleBinding", False),
    _r("rbac.authorization.k8s.io", "roles", "Role", True),
    _r("rbac.authorization.k8s.io", "rolebindings", "RoleBinding", True),
    _r("coordination.k8s.io", "leases", "Lease", True),
    _r("scheduling.k8s.io", "priorityclasses", "PriorityClass", False, short=("pc",)),
)

_INDEX: dict[str, ResourceType] = {}
for _rt in RESOURCES:
    for _key in (
        _rt.plural,
        _rt.kind,
        _rt.kind.lower(),
        str(_rt),
        f"{_rt.api_version}/{_rt.plural}",
        *_rt.short_names,
    ):
        _INDEX.setdefault(_key, _rt)
_BY_PATH: dict[tuple[str, str, str], ResourceType] = {
    (rt.group, rt.version, rt.plural): rt for rt in RESOURCES
}


def lookup(resource: str | ResourceType) -> ResourceType:
    """Resolve a plural, kind, short name, ``plural.group`` or ``g/v/plural``."""
    if isinstance(resource, ResourceType):
        return resource
    try:
        return _INDEX[resource]
    except KeyError:
        raise UnknownResourceError(resource) from None


def by_path(group: str, version: str, plural: str) -> ResourceType | None:
    """The resource served at ``/api(s)/{group}/{version}/{plural}``, if any."""
    return _BY_PATH.get((group, version, plural))


def group_versions() -> list[tuple[str, str]]:
    """Every (group, version) served, core first, in a stable order."""
    seen: list[tuple[str, str]] = []
    for rt in RESOURCES:
        if (rt.group, rt.version) not in seen:
            seen.append((rt.group, rt.version))
    return seen
