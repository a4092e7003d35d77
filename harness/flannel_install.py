"""Install and uninstall Flannel on a cluster the way users do (``kubectl apply -f`` /
``kubectl delete -f``) and wait, with bounded waits, until it is really up.

>>> manifest_path("v0.27.3").name
'kube-flannel-v0.27.3.yml'
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from harness.kube import HasKubeconfig, kubectl, kubectl_json
from harness.wait import until

MANIFESTS = Path(__file__).resolve().parent.parent / "fixtures" / "manifests"
VERSIONS = ("v0.24.4", "v0.26.7", "v0.27.3", "v0.28.9")
NAMESPACE = "kube-flannel"
_IMAGE_TAG = re.compile(r"image:\s*\S*/flannel:(v\d+\.\d+\.\d+)")


def manifest_path(version: str) -> Path:
    path = MANIFESTS / f"kube-flannel-{version}.yml"
    if not path.is_file():
        raise FileNotFoundError(
            f"no manifest for Flannel {version} (have: {', '.join(VERSIONS)})"
        )
    return path


def cni_conf(version: str = "v0.27.3") -> dict[str, Any]:
    """The conflist the manifest's install-cni container writes to
    /etc/cni/net.d/10-flannel.conflist: its ConfigMap's ``cni-conf.json``
    (fact: flannel-footprint.md §1.2, §1.3)."""
    import yaml

    for doc in yaml.safe_load_all(manifest_path(version).read_text()):
        if doc and doc.get("kind") == "ConfigMap":
            conf: dict[str, Any] = json.loads(doc["data"]["cni-conf.json"])
            return conf
    raise ValueError(f"the {version} manifest has no ConfigMap")


def manifest_version(path: Path) -> str:
    """The flannel version a manifest installs, read from its flanneld image tag."""
    found = _IMAGE_TAG.findall(path.read_text())
    if not found:
        raise ValueError(f"{path}: no flannel image with a version tag")
    return found[-1]


def _ready(obj: dict[str, Any], type_: str = "Ready") -> bool:
    return any(
        c["type"] == type_ and c["status"] == "True"
        for c in (obj.get("status") or {}).get("conditions") or []
    )


def install(cluster: HasKubeconfig, manifest: Path, timeout: float = 60.0) -> None:
    kubectl(cluster, "apply", "-f", str(manifest))
    wait_up(cluster, timeout)


def wait_up(cluster: HasKubeconfig, timeout: float = 60.0) -> None:
    """Every node Ready with Flannel's NetworkUnavailable=False/FlannelIsUp condition."""

    def up() -> bool:
        nodes = kubectl_json(cluster, "get", "nodes")["items"]
        return bool(nodes) and all(
            _ready(n)
            and any(
                c["type"] == "NetworkUnavailable" and c.get("reason") == "FlannelIsUp"
                for c in n["status"]["conditions"]
            )
            for n in nodes
        )

    until(up, timeout=timeout, interval=0.2, what="Flannel up on every node")


def uninstall(cluster: HasKubeconfig, manifest: Path) -> None:
    """The documented way: ``kubectl delete -f`` (with its default wait)."""
    kubectl(cluster, "delete", "-f", str(manifest), timeout=120)
