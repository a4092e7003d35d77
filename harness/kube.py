"""Talk to a cluster's API the way users do: ``kubectl`` (found on PATH or ``$KUBECTL``)
and the official ``kubernetes`` client, both through the cluster's kubeconfig.

>>> kubectl(cluster, "get", "nodes", "-o", "name").stdout.split()   # doctest: +SKIP
['node/lab-control-plane', 'node/lab-worker', 'node/lab-worker2']
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any, Protocol

from cniscrub.node.command import CommandError, CommandResult


class HasKubeconfig(Protocol):
    @property
    def kubeconfig(self) -> Path | None: ...


def find_kubectl() -> str | None:
    """``$KUBECTL``, else kubectl on PATH, else the one pip installed next to us."""
    explicit = os.environ.get("KUBECTL")
    if explicit:
        return explicit
    found = shutil.which("kubectl")
    if found:
        return found
    import sys

    beside = Path(sys.executable).with_name("kubectl")
    return str(beside) if beside.exists() else None


def _kubeconfig(cluster: HasKubeconfig) -> str:
    if cluster.kubeconfig is None:
        raise RuntimeError(f"{cluster} has no control plane (no kubeconfig)")
    return str(cluster.kubeconfig)


def kubectl(
    cluster: HasKubeconfig,
    *args: str,
    input: str | None = None,
    check: bool = True,
    timeout: float = 60.0,
) -> CommandResult:
    binary = find_kubectl()
    if binary is None:
        raise RuntimeError("kubectl not found: put it on PATH or set $KUBECTL")
    argv = (binary, *args)
    proc = subprocess.run(
        argv,
        input=input.encode() if input is not None else None,
        capture_output=True,
        env={**os.environ, "KUBECONFIG": _kubeconfig(cluster)},
        timeout=timeout,
    )
    result = CommandResult(argv, proc.returncode, proc.stdout, proc.stderr)
    if check and not result.ok:
        raise CommandError(result)
    return result


def kubectl_json(cluster: HasKubeconfig, *args: str) -> Any:
    return json.loads(kubectl(cluster, *args, "-o", "json").stdout)


_CLIENTS: dict[str, Any] = {}


def api_get(cluster: HasKubeconfig, path: str) -> Any:
    """GET an API path (``/api/v1/nodes``) as JSON through one cached official-client
    connection per kubeconfig: for reads repeated many times (snapshots), where a
    kubectl process per read costs more than the read."""
    key = Path(_kubeconfig(cluster)).read_text()  # a re-made cluster has a new endpoint
    client = _CLIENTS.get(key)
    if client is None:
        client = _CLIENTS[key] = api_client(cluster)
    request = client.param_serialize(
        method="GET",
        resource_path=path,
        header_params={"Accept": "application/json"},
        auth_settings=["BearerToken"],
    )
    response = client.call_api(*request, _request_timeout=30)
    response.read()
    if response.status >= 400:
        raise RuntimeError(
            f"GET {path}: HTTP {response.status}: {response.data[:200]!r}"
        )
    return json.loads(response.data)


def api_client(cluster: HasKubeconfig) -> Any:
    """An official-client ``ApiClient`` bound to the cluster."""
    from kubernetes import config

    return config.new_client_from_config(config_file=_kubeconfig(cluster))


def manifest_workloads(manifest: Path) -> list[tuple[str, str, str]]:
    """(kind, namespace, name) of each DaemonSet and Deployment a manifest defines:
    what an install waits for, whatever the CNI."""
    import yaml

    found = []
    for doc in yaml.safe_load_all(manifest.read_text()):
        if isinstance(doc, dict) and doc.get("kind") in ("DaemonSet", "Deployment"):
            meta: dict[str, Any] = doc.get("metadata") or {}
            found.append((doc["kind"], meta.get("namespace", "default"), meta["name"]))
    return found
