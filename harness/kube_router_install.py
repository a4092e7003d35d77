"""Install and uninstall kube-router on a cluster the way users do (``kubectl apply
-f`` / ``kubectl delete -f`` of ``kubeadm-kuberouter.yaml``) and wait, with bounded
waits, until it really runs (mirrors :mod:`harness.flannel_install`).

The manifests are ``fixtures/manifests/kube-router-<version>.yml``.

>>> kube_router_versions()
('v2.11.1',)
>>> manifest_path().name
'kube-router-v2.11.1.yml'
>>> cni_conf()["plugins"][0]["bridge"]
'kube-bridge'
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from harness.kube import HasKubeconfig, kubectl
from harness.kube_get import get_json
from harness.matrix import MANIFESTS, version_key
from harness.providers.base import Node
from harness.wait import until

NAMESPACE = "kube-system"
DAEMONSET = "kube-router"  # kube-router-footprint.md §1
CONFLIST = "/etc/cni/net.d/10-kuberouter.conflist"  # §1 KUBE_ROUTER_CNI_CONF_FILE
_MANIFEST = re.compile(r"kube-router-(v\d+\.\d+\.\d+)\.yml")
__all__ = [
    "CONFLIST",
    "cni_conf",
    "install",
    "kube_router_versions",
    "manifest_path",
    "uninstall",
    "wait_up",
]


def kube_router_versions() -> tuple[str, ...]:
    """Every kube-router version with a manifest fixture, oldest first."""
    found = (_MANIFEST.fullmatch(p.name) for p in MANIFESTS.glob("kube-router-*.yml"))
    return tuple(sorted((m.group(1) for m in found if m), key=version_key))


def manifest_path(version: str | None = None) -> Path:
    """The fixture for ``version`` (default: the newest); a clear error if absent."""
    have = kube_router_versions()
    version = version or (have[-1] if have else "")
    path = MANIFESTS / f"kube-router-{version}.yml"
    if not path.is_file():
        raise FileNotFoundError(
            f"no manifest for kube-router {version} (have: {', '.join(have)})"
        )
    return path


def cni_conf(version: str | None = None) -> dict[str, Any]:
    """The ConfigMap's ``cni-conf.json``: what the ``install-cni`` init container
    copies to :data:`CONFLIST` when it is absent (fact: kube-router-footprint.md §1)."""
    import yaml

    for doc in yaml.safe_load_all(manifest_path(version).read_text()):
        if doc and doc.get("kind") == "ConfigMap":
            conf: dict[str, Any] = json.loads(doc["data"]["cni-conf.json"])
            return conf
    raise ValueError(f"the kube-router {version} manifest has no ConfigMap")


def install(
    cluster: HasKubeconfig, manifest: Path | None = None, timeout: float | None = None
) -> None:
    """``kubectl apply -f`` and wait until kube-router runs on every node (idempotent).
    The default wait is the cluster's ``install_timeout`` if it has one, else 120 s."""
    kubectl(cluster, "apply", "-f", str(manifest or manifest_path()))
    default = float(getattr(cluster, "install_timeout", 120.0))
    wait_up(cluster, timeout if timeout is not None else default)


def _rewritten(node: Node) -> bool:
    """kube-router has put the node's pod CIDR into its conflist (§2.1)."""
    try:
        conf = json.loads(node.read_file(CONFLIST))
    except (FileNotFoundError, ValueError):
        return False
    bridge = next(p for p in conf.get("plugins", [conf]) if p.get("type") == "bridge")
    return bool(bridge.get("ipam", {}).get("ranges"))


def wait_up(cluster: HasKubeconfig, timeout: float = 120.0) -> None:
    """The DaemonSet's pods Ready on every node, every node Ready and, where the
    nodes can be read, each conflist rewritten with the node's pod CIDR."""

    def up() -> bool:
        nodes = get_json(cluster, "get", "nodes")["items"]
        ds = get_json(cluster, "get", "daemonset", DAEMONSET, "-n", NAMESPACE)
        ready = (ds.get("status") or {}).get("numberReady")
        return (
            bool(nodes)
            and ready == len(nodes)
            and all(_node_ready(n) for n in nodes)
            and all(_rewritten(n) for n in getattr(cluster, "nodes", ()))
        )

    until(up, timeout=timeout, interval=0.2, what="kube-router up on every node")


def _node_ready(node: dict[str, Any]) -> bool:
    return any(
        c["type"] == "Ready" and c["status"] == "True"
        for c in (node.get("status") or {}).get("conditions") or []
    )


def uninstall(cluster: HasKubeconfig, manifest: Path | None = None) -> None:
    """The documented way: ``kubectl delete -f`` (kube-router's state stays, §4)."""
    kubectl(cluster, "delete", "-f", str(manifest or manifest_path()), timeout=120)
