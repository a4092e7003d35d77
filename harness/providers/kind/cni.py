"""Install a CNI (Flannel, kube-router) on a kind cluster, with bounded waits.

kind's node image has only ``host-local``, ``loopback``, ``ptp`` and ``portmap`` in
``/opt/cni/bin``; Flannel delegates to ``bridge``, which the user must supply
(harness-anchors.md §8 "Installing Flannel on kind"). The reference plugins are
copied into **each node separately** (docker's archive API), never bind-mounted from
one shared host directory: a shared mount would make "the flannel binary is gone from
node X" unobservable per node (the same section's warning). The source is Debian's
``containernetworking-plugins`` (``/usr/lib/cni``; glibc-linked, which the Debian-based
node image runs) or any directory given.

Then the manifest from ``fixtures/manifests/`` is applied as users do, and the wait
covers every DaemonSet it defines (``kubectl rollout status``) and every node Ready.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from harness.kube import manifest_workloads
from harness.providers.base import ProviderError
from harness.providers.kind.readiness import (
    NODE_READY_TIMEOUT,
    ROLLOUT_TIMEOUT,
    wait_nodes_ready,
    wait_rollout,
)

if TYPE_CHECKING:
    from harness.providers.kind.cluster import KindTestCluster

REFERENCE_PLUGINS = ("bridge", "host-local", "portmap", "loopback")
PLUGIN_SOURCES = (Path("/usr/lib/cni"), Path("/opt/cni/bin"))
NODE_CNI_BIN = "/opt/cni/bin"


def plugin_dir(explicit: Path | None = None) -> Path:
    """The first directory holding every reference plugin."""
    for folder in [explicit] if explicit else list(PLUGIN_SOURCES):
        if all((folder / p).is_file() for p in REFERENCE_PLUGINS):
            return folder
    where = explicit or " or ".join(map(str, PLUGIN_SOURCES))
    raise ProviderError(
        f"the reference CNI plugins ({', '.join(REFERENCE_PLUGINS)}) are not all in "
        f"{where} (apt-get install containernetworking-plugins)"
    )


def reference_plugins(source: Path | None = None) -> dict[str, tuple[bytes, int]]:
    folder = plugin_dir(source)
    return {name: ((folder / name).read_bytes(), 0o755) for name in REFERENCE_PLUGINS}


def copy_reference_plugins(
    cluster: KindTestCluster, source: Path | None = None
) -> None:
    """Copy bridge, host-local, portmap and loopback into every node's /opt/cni/bin,
    one node at a time."""
    plugins = reference_plugins(source)
    for node in cluster.nodes:
        node.ops.put_files(NODE_CNI_BIN, plugins)


def install(
    cluster: KindTestCluster,
    manifest: Path,
    *,
    rollout_timeout: float = ROLLOUT_TIMEOUT,
    ready_timeout: float = NODE_READY_TIMEOUT,
) -> None:
    """``kubectl apply -f MANIFEST``, then wait for its workloads and every node."""
    kubectl = cluster.kubectl
    kubectl("apply", "-f", str(manifest), timeout=120)
    for kind, namespace, name in manifest_workloads(manifest):
        wait_rollout(kubectl, namespace, kind, name, rollout_timeout)
    wait_nodes_ready(
        kubectl,
        [node.name for node in cluster.nodes],
        timeout=ready_timeout,
        what=f"every node Ready after applying {manifest.name}",
    )
