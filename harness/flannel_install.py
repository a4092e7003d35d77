"""Install and uninstall Flannel on a cluster the way users do (``kubectl apply -f`` /
``kubectl delete -f``) and wait, with bounded waits, until it is really up.

The manifests (and so the versions) are :mod:`harness.matrix`'s.

>>> manifest_path("v0.27.3").name
'kube-flannel-v0.27.3.yml'
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path
from typing import Any

from harness.kube import HasKubeconfig, kubectl
from harness.kube_get import get_json
from harness.matrix import DEFAULT_FLANNEL_VERSION, manifest_path
from harness.providers.base import Node
from harness.wait import until

NAMESPACE = "kube-flannel"
DAEMONSET = "kube-flannel-ds"  # its name in every manifest (flannel-footprint.md §1.1)
SUBNET_ENV = "/run/flannel/subnet.env"
_IMAGE_TAG = re.compile(r"image:\s*\S*/flannel:(v\d+\.\d+\.\d+)")
__all__ = ["cni_conf", "install", "manifest_path", "manifest_version", "uninstall"]


def cni_conf(version: str = DEFAULT_FLANNEL_VERSION) -> dict[str, Any]:
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


def install(
    cluster: HasKubeconfig, manifest: Path, timeout: float | None = None
) -> None:
    """``kubectl apply -f`` and wait until Flannel runs on every node. Idempotent: on
    a cluster where Flannel runs it changes nothing; after ``kubectl delete -f`` (or a
    cleaner run) it installs Flannel again over whatever the nodes kept. The default
    wait is the cluster's ``install_timeout`` if it has one (kind pulls images: 300 s),
    else 120 s (bounded; generous for a loaded machine)."""
    kubectl(cluster, "apply", "-f", str(manifest))
    default = float(getattr(cluster, "install_timeout", 120.0))
    wait_up(cluster, timeout if timeout is not None else default)


def wait_up(cluster: HasKubeconfig, timeout: float = 120.0) -> None:
    """Every node Ready, the DaemonSet's pods Ready on all of them, on every node the
    NetworkUnavailable=False/FlannelIsUp condition posted by the agent running *now*
    (its heartbeat is not older than that node's Flannel pod) and, where the nodes can be
    read, ``/run/flannel/subnet.env`` written.

    After ``kubectl delete -f`` the condition and subnet.env stay (fact:
    flannel-footprint.md §2.6, §2.7): alone they prove nothing about a new install. The
    condition is the agent's last start-up step (``CompleteLease``, after subnet.env;
    real-flannel.md §3 start sequence, step 13), so its fresh heartbeat means the new
    agent is up. Its masquerade and forward rules (goroutines up to v0.27.3, step 9) and
    per-peer entries (``bn.Run``, step 11) may still land after it."""

    def up() -> bool:
        nodes = get_json(cluster, "get", "nodes")["items"]
        ds = get_json(cluster, "get", "daemonset", DAEMONSET, "-n", NAMESPACE)
        status = ds.get("status") or {}
        started = _pods_started(cluster, ds)
        return (
            bool(nodes)
            and status.get("numberReady") == len(nodes)
            and all(
                _ready(n) and _flannel_is_up(n, started.get(n["metadata"]["name"]))
                for n in nodes
            )
            and all(_has_subnet_env(n) for n in getattr(cluster, "nodes", ()))
        )

    until(up, timeout=timeout, interval=0.2, what="Flannel up on every node")


def _pods_started(cluster: HasKubeconfig, ds: dict[str, Any]) -> dict[str, datetime]:
    """Node name -> start time of the DaemonSet's (not terminating) pod there."""
    labels = ds["spec"]["selector"].get("matchLabels") or {}
    selector = ",".join(f"{k}={v}" for k, v in labels.items())
    pods = get_json(cluster, "get", "pods", "-n", NAMESPACE, "-l", selector)
    started: dict[str, datetime] = {}
    for pod in pods["items"]:
        node = pod["spec"].get("nodeName")
        since = (pod.get("status") or {}).get("startTime")
        if node and since and not pod["metadata"].get("deletionTimestamp"):
            started[node] = max(_time(since), started.get(node, _time(since)))
    return started


def _time(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp)


def _flannel_is_up(node: dict[str, Any], since: datetime | None) -> bool:
    return since is not None and any(
        c["type"] == "NetworkUnavailable"
        and c.get("reason") == "FlannelIsUp"
        and _time(c.get("lastHeartbeatTime") or "1970-01-01T00:00:00Z") >= since
        for c in node["status"]["conditions"]
    )


def _has_subnet_env(node: Node) -> bool:
    try:
        return bool(node.read_file(SUBNET_ENV))
    except FileNotFoundError:
        return False


def uninstall(cluster: HasKubeconfig, manifest: Path) -> None:
    """The documented way: ``kubectl delete -f`` (with its default wait)."""
    kubectl(cluster, "delete", "-f", str(manifest), timeout=120)
