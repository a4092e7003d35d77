"""Pure translation of a Pod into what the emulated kubelet runs (test emulation).

>>> resolve_env({"metadata": {"name": "p", "namespace": "ns"}, "spec": {"nodeName": "n"}},
...             [{"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
...              {"name": "X", "value": "1"}])["POD_NAME"]
'p'
"""

from __future__ import annotations

from typing import Any

Pod = dict[str, Any]
KUBELET_DIR = "/var/lib/kubelet/pods"
API_IN_CLUSTER = ("198.18.0.1", "6443")


def pod_dir(pod: Pod) -> str:
    return f"{KUBELET_DIR}/{pod['metadata']['uid']}"


def log_path(pod: Pod, container: str, attempt: int) -> str:
    m = pod["metadata"]
    return f"/var/log/pods/{m['namespace']}_{m['name']}_{m['uid']}/{container}/{attempt}.log"


def _field(pod: Pod, path: str) -> str:
    value: Any = pod
    for part in path.replace("['", ".").replace("']", "").split("."):
        value = value.get(part, "") if isinstance(value, dict) else ""
    return str(value) if value is not None else ""


def resolve_env(pod: Pod, env: list[dict[str, Any]] | None) -> dict[str, str]:
    out = {
        "KUBERNETES_SERVICE_HOST": API_IN_CLUSTER[0],
        "KUBERNETES_SERVICE_PORT": API_IN_CLUSTER[1],
        "HOSTNAME": pod["metadata"]["name"],
    }
    for item in env or []:
        if "value" in item:
            out[item["name"]] = str(item["value"])
        elif "fieldRef" in item.get("valueFrom", {}):
            out[item["name"]] = _field(pod, item["valueFrom"]["fieldRef"]["fieldPath"])
        else:
            out[item["name"]] = ""
    return out


def configmap_dir(pod: Pod, volume: str) -> str:
    return f"{pod_dir(pod)}/volumes/kubernetes.io~configmap/{volume}"


# A sandbox node's own trees; everywhere else its ``/`` is the host's (read-only for
# the harness: a hostPath there is never created, see :func:`hostpath_standin`).
NODE_TREES = ("/etc", "/opt", "/var", "/run")


def node_owned(path: str) -> bool:
    """``path`` lies in a tree the sandbox node owns (its overlays and ``/run``).

    >>> node_owned("/etc/cni/net.d"), node_owned("/lib/modules")
    (True, False)
    """
    return any(path == t or path.startswith(t + "/") for t in NODE_TREES)


def hostpath_standin(pod: Pod, volume: str) -> str:
    """The empty node directory mounted for a hostPath that is missing outside the
    node's own trees (e.g. ``/lib/modules`` on a host without modules): a real node
    has it, creating it here would change the host."""
    return f"{pod_dir(pod)}/volumes/kubernetes.io~host-path-standin/{volume}"


def volume_sources(pod: Pod) -> dict[str, dict[str, Any]]:
    """volume name -> {"path": node path, "type": hostPath type or "configMap", ...}."""
    out: dict[str, dict[str, Any]] = {}
    for vol in pod["spec"].get("volumes") or []:
        if "hostPath" in vol:
            hp = vol["hostPath"]
            out[vol["name"]] = {"path": hp["path"], "type": hp.get("type") or ""}
        elif "configMap" in vol:
            out[vol["name"]] = {
                "path": configmap_dir(pod, vol["name"]),
                "type": "configMap",
                "configMap": vol["configMap"]["name"],
                "items": vol["configMap"].get("items"),
            }
        elif "projected" in vol:  # the service-account token volume, and the like
            out[vol["name"]] = {
                "path": f"{pod_dir(pod)}/volumes/kubernetes.io~projected/{vol['name']}",
                "type": "projected",
                "sources": vol["projected"].get("sources") or [],
            }
        elif "emptyDir" in vol:
            out[vol["name"]] = {
                "path": f"{pod_dir(pod)}/volumes/kubernetes.io~empty-dir/{vol['name']}",
                "type": "emptyDir",
            }
    return out


def projected_files(
    pod: Pod, sources: list[dict[str, Any]], token: str, configmaps: dict[str, Any]
) -> dict[str, str]:
    """File name -> content of a projected volume (token, configMap items, downward
    API fields); ``configmaps`` maps a name to its object (missing: KeyError)."""
    files: dict[str, str] = {}
    for source in sources:
        if "serviceAccountToken" in source:
            files[source["serviceAccountToken"].get("path", "token")] = token
        elif "configMap" in source:
            ref = source["configMap"]
            data = (configmaps[ref["name"]].get("data")) or {}
            for item in ref.get("items") or [{"key": k, "path": k} for k in data]:
                files[item["path"]] = data[item["key"]]
        elif "downwardAPI" in source:
            for item in source["downwardAPI"].get("items") or []:
                files[item["path"]] = _field(pod, item["fieldRef"]["fieldPath"])
    return files


def container_mounts(
    pod: Pod, container: dict[str, Any], standins: dict[str, str] | None = None
) -> list[dict[str, Any]]:
    """The container's bind mounts; ``standins`` replaces the source of a volume."""
    sources = volume_sources(pod)
    mounts = []
    for vm in container.get("volumeMounts") or []:
        src = sources.get(vm["name"])
        if src is None:
            raise ValueError(f"volumeMount {vm['name']!r} names no volume of the pod")
        mounts.append(
            {
                "source": (standins or {}).get(vm["name"], src["path"]),
                "target": vm["mountPath"],
                "readOnly": bool(vm.get("readOnly")),
                "file": src["type"] in ("FileOrCreate", "File"),
            }
        )
    return mounts


def container_argv(container: dict[str, Any]) -> list[str]:
    return [*(container.get("command") or []), *(container.get("args") or [])]


def tolerates(tolerations: list[dict[str, Any]] | None, taint: dict[str, Any]) -> bool:
    for tol in tolerations or []:
        if tol.get("effect") and tol["effect"] != taint.get("effect"):
            continue
        if tol.get("operator") == "Exists":
            if not tol.get("key") or tol["key"] == taint.get("key"):
                return True
        elif tol.get("key") == taint.get("key") and tol.get("value", "") == taint.get(
            "value", ""
        ):
            return True
    return False
