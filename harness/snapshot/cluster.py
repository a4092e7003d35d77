"""The cluster's API state as named objects: the kinds a CNI manifest creates, and the
Node objects' annotations, labels, taints and conditions (one ``kubectl get`` each).

Pods, events and leases are left out (they come and go by themselves), and so are the
conditions and taints the kubelet and node lifecycle own (Ready, pressures,
``node.kubernetes.io/*``). Objects labelled ``IGNORE_LABEL`` are the harness's own
(e.g. a validation's workload) and are skipped.

>>> sorted(node_objects({"metadata": {"name": "w", "annotations": {"a/b": "1"}},
...     "status": {"conditions": [{"type": "NetworkUnavailable", "status": "False",
...                                "reason": "FlannelIsUp"}]}}))
['annotation a/b on node/w', 'condition NetworkUnavailable=False (FlannelIsUp) on node/w']
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from harness.kube import HasKubeconfig, api_get

KINDS = {  # the kinds a CNI manifest creates: kind -> list path
    "Namespace": "/api/v1/namespaces",
    "DaemonSet": "/apis/apps/v1/daemonsets",
    "Deployment": "/apis/apps/v1/deployments",
    "ConfigMap": "/api/v1/configmaps",
    "Secret": "/api/v1/secrets",
    "ServiceAccount": "/api/v1/serviceaccounts",
    "Service": "/api/v1/services",
    "ClusterRole": "/apis/rbac.authorization.k8s.io/v1/clusterroles",
    "ClusterRoleBinding": "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings",
    "Role": "/apis/rbac.authorization.k8s.io/v1/roles",
    "RoleBinding": "/apis/rbac.authorization.k8s.io/v1/rolebindings",
    "PriorityClass": "/apis/scheduling.k8s.io/v1/priorityclasses",
}
IGNORE_LABEL = "cniscrub.io/harness"
KUBELET_CONDITIONS = {"Ready", "MemoryPressure", "DiskPressure", "PIDPressure"}
_CONTENT = ("spec", "data", "rules", "roleRef", "subjects", "value")


def collect(cluster: HasKubeconfig) -> dict[str, str]:
    """One list request per kind (a kept connection: a snapshot follows every step)."""
    out: dict[str, str] = {}
    for kind, path in KINDS.items():
        for obj in api_get(cluster, path)["items"]:
            meta = obj["metadata"]
            if IGNORE_LABEL in (meta.get("labels") or {}):
                continue
            where = f"{meta['namespace']}/" if meta.get("namespace") else ""
            content = {k: obj[k] for k in _CONTENT if k in obj}
            digest = hashlib.md5(
                json.dumps(content, sort_keys=True).encode()
            ).hexdigest()
            out[f"{kind.lower()} {where}{meta['name']}"] = digest
    for node in api_get(cluster, "/api/v1/nodes")["items"]:
        out.update(node_objects(node))
    return out


def node_objects(node: dict[str, Any]) -> dict[str, str]:
    meta, status = node["metadata"], node.get("status") or {}
    on = f"on node/{meta['name']}"
    out = {f"annotation {k} {on}": "" for k in meta.get("annotations") or {}}
    out.update({f"label {k} {on}": v for k, v in (meta.get("labels") or {}).items()})
    for t in (node.get("spec") or {}).get("taints") or []:
        if not t["key"].startswith("node.kubernetes.io/"):
            out[f"taint {t['key']}:{t['effect']} {on}"] = ""
    for c in status.get("conditions") or []:
        if c["type"] not in KUBELET_CONDITIONS:
            reason = f" ({c['reason']})" if c.get("reason") else ""
            out[f"condition {c['type']}={c['status']}{reason} {on}"] = ""
    return out
