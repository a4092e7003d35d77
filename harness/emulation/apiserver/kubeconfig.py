"""Kubeconfig files for the Kubernetes API stand-in (a test stand-in, never a product
component), shaped like ``kind get kubeconfig`` output: plain http, or https trusted
through the cluster CA; no credentials (the stand-in has no authentication).

>>> write_kubeconfig(tmp / "kc", "http://127.0.0.1:41234", "lab")  # doctest: +SKIP
PosixPath('.../kubeconfig')
"""

from __future__ import annotations

import base64
import os
import shutil
from pathlib import Path
from typing import Any

import yaml

__all__ = ["find_kubectl", "kubeconfig_dict", "write_kubeconfig"]


def kubeconfig_dict(
    server_url: str,
    cluster_name: str,
    user: str = "admin",
    ca_cert: bytes | None = None,
) -> dict[str, Any]:
    """The kubeconfig document; context and cluster are named ``cluster_name``; an
    https server is trusted through ``ca_cert`` (PEM), as kind's kubeconfig does."""
    user_name = f"{user}@{cluster_name}"
    cluster: dict[str, Any] = {"server": server_url}
    if ca_cert is not None:
        cluster["certificate-authority-data"] = base64.b64encode(ca_cert).decode()
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "preferences": {},
        "clusters": [{"name": cluster_name, "cluster": cluster}],
        "users": [{"name": user_name, "user": {"username": user}}],
        "contexts": [
            {
                "name": cluster_name,
                "context": {"cluster": cluster_name, "user": user_name},
            }
        ],
        "current-context": cluster_name,
    }


def write_kubeconfig(
    path: str | os.PathLike[str],
    server_url: str,
    cluster_name: str,
    user: str = "admin",
) -> Path:
    """Write the kubeconfig atomically with mode 0600 and return its path."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        yaml.safe_dump(
            kubeconfig_dict(server_url, cluster_name, user), handle, sort_keys=False
        )
    os.chmod(tmp, 0o600)
    os.replace(tmp, target)
    return target


def find_kubectl() -> str | None:
    """The kubectl to drive a stand-in with: ``$KUBECTL`` when set (and executable),
    else ``kubectl`` on ``PATH``; ``None`` when there is none."""
    explicit = os.environ.get("KUBECTL")
    if explicit:
        return explicit if os.access(explicit, os.X_OK) else None
    return shutil.which("kubectl")
