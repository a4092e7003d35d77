"""The Kubernetes kinds ``cniscrub cluster`` reads and deletes: where each is served,
whether it is namespaced, and when it goes in a dependency-ordered delete.

The order is Kubernetes knowledge, not a CNI's: the workload that runs the agent goes
first (its pods must stop before anything they use disappears), then what its pods
used (configuration, services), then the bindings that grant the roles to the service
account, the roles, the service account, and the namespace that held them last.

>>> kind("DaemonSet").path("kube-flannel", "kube-flannel-ds")
'/apis/apps/v1/namespaces/kube-flannel/daemonsets/kube-flannel-ds'
>>> kind("ClusterRole").path(None, "flannel")
'/apis/rbac.authorization.k8s.io/v1/clusterroles/flannel'
>>> sorted(["Namespace", "ClusterRole", "DaemonSet"], key=lambda k: kind(k).rank)
['DaemonSet', 'ClusterRole', 'Namespace']
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["KINDS", "NAMESPACE_CONTENT", "PROTECTED_NAMESPACES", "Kind", "kind"]

#: namespaces every cluster needs: never deleted, whatever lives in them
PROTECTED_NAMESPACES = frozenset(
    {"default", "kube-system", "kube-public", "kube-node-lease"}
)


@dataclass(frozen=True)
class Kind:
    """One kind: its API version, plural, scope and delete rank (lower goes first)."""

    name: str
    api_version: str
    plural: str
    namespaced: bool
    rank: int

    @property
    def prefix(self) -> str:
        return f"/apis/{self.api_version}" if "/" in self.api_version else "/api/v1"

    def path(self, namespace: str | None = None, name: str | None = None) -> str:
        """REST path of the collection (all namespaces when ``namespace`` is None),
        or of one object."""
        parts = [self.prefix]
        if self.namespaced and namespace:
            parts.append(f"namespaces/{namespace}")
        parts.append(self.plural)
        if name:
            parts.append(name)
        return "/".join(parts)


_RBAC = "rbac.authorization.k8s.io/v1"
KINDS: dict[str, Kind] = {
    k.name: k
    for k in (
        Kind("DaemonSet", "apps/v1", "daemonsets", True, 0),
        Kind("Deployment", "apps/v1", "deployments", True, 0),
        Kind("Job", "batch/v1", "jobs", True, 0),
        Kind("Pod", "v1", "pods", True, 1),
        Kind("ConfigMap", "v1", "configmaps", True, 2),
        Kind("Secret", "v1", "secrets", True, 2),
        Kind("Service", "v1", "services", True, 2),
        Kind("Lease", "coordination.k8s.io/v1", "leases", True, 2),
        Kind("RoleBinding", _RBAC, "rolebindings", True, 3),
        Kind("ClusterRoleBinding", _RBAC, "clusterrolebindings", False, 3),
        Kind("Role", _RBAC, "roles", True, 4),
        Kind("ClusterRole", _RBAC, "clusterroles", False, 4),
        Kind("ServiceAccount", "v1", "serviceaccounts", True, 5),
        Kind("Namespace", "v1", "namespaces", False, 6),
        Kind("Node", "v1", "nodes", False, 7),
    )
}
#: kinds whose objects in a namespace make it someone else's too (checked before a
#: namespace is deleted)
NAMESPACE_CONTENT = (
    "Pod",
    "DaemonSet",
    "Deployment",
    "Job",
    "ConfigMap",
    "Secret",
    "Service",
    "ServiceAccount",
    "Role",
    "RoleBinding",
    "Lease",
)


def kind(name: str) -> Kind:
    """The kind called ``name`` (a ValueError names the kinds cniscrub knows)."""
    try:
        return KINDS[name]
    except KeyError:
        raise ValueError(
            f"cniscrub cluster does not know the kind {name!r} "
            f"(known: {', '.join(sorted(KINDS))})"
        ) from None
