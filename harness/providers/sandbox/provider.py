"""Create, find, reboot and delete sandbox clusters (kind-style names and semantics).

Node names follow kind: ``<cluster>-control-plane``, ``<cluster>-worker``,
``<cluster>-worker2``, ... ``delete`` is idempotent like ``rm -f`` and touches only what
the cluster record owns. A failed ``create`` removes everything it made.

>>> node_names("lab", 3)
['lab-control-plane', 'lab-worker', 'lab-worker2']
"""

from __future__ import annotations

import json
import logging
import shutil
import time
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path

from harness.providers.base import ClusterSpec
from harness.providers.sandbox import holders, underlay
from harness.providers.sandbox.image import ensure_image, layer_dirs
from harness.providers.sandbox.node import SandboxNode
from harness.providers.sandbox.state import (
    ClusterDir,
    ClusterRecord,
    NodeRecord,
    ProcRef,
    SandboxError,
    list_cluster_dirs,
    state_home,
)

log = logging.getLogger(__name__)

RUN_SIZE = "256m"
# what kubeadm's prerequisites put in /etc/sysctl.d and a real boot applies again
BOOT_SYSCTLS = {"net/ipv4/ip_forward": "1"}

# called after a cluster's nodes are up (the control plane hooks in here)
PostCreateHook = Callable[["SandboxCluster", ClusterSpec], None]


def node_names(cluster: str, count: int) -> list[str]:
    if count < 1:
        raise SandboxError("a cluster needs at least one node")
    workers = [f"{cluster}-worker{'' if i == 1 else i}" for i in range(1, count)]
    return [f"{cluster}-control-plane", *workers]


class SandboxCluster:
    """A running (or crashed) sandbox cluster, loaded from its record."""

    def __init__(self, cdir: ClusterDir, record: ClusterRecord) -> None:
        self.dir = cdir
        self.record = record
        self._nodes = [SandboxNode(self, r) for r in record.nodes]

    def __repr__(self) -> str:
        return f"<sandbox cluster {self.name} ({len(self._nodes)} nodes)>"

    @property
    def name(self) -> str:
        return self.record.name

    @property
    def id(self) -> str:
        return self.record.id

    @property
    def nodes(self) -> Sequence[SandboxNode]:
        return self._nodes

    def node(self, name: str) -> SandboxNode:
        for node in self._nodes:
            if node.name == name:
                return node
        names = ", ".join(n.name for n in self._nodes)
        raise SandboxError(f"cluster {self.name} has no node {name!r} (nodes: {names})")

    @property
    def state_dir(self) -> Path:
        return self.dir.path

    @property
    def kubeconfig(self) -> Path | None:
        path = self.dir.path / "kubeconfig"
        return path if path.exists() else None

    @property
    def fabric_pid(self) -> int:
        if self.record.fabric is None or not self.record.fabric.alive():
            raise SandboxError(f"cluster {self.name}: the underlay fabric is gone")
        return self.record.fabric.pid

    def refresh(self) -> None:
        """Re-read the record (another process may have rebooted a node)."""
        fresh = self.dir.load()
        by_name = {r.name: r for r in fresh.nodes}
        for node in self._nodes:
            new = by_name.get(node.name)
            if new is not None:
                node.record.__dict__.update(new.__dict__)
        self.record.__dict__.update(
            {k: v for k, v in fresh.__dict__.items() if k != "nodes"}
        )

    def reboot(self, name: str) -> None:
        """SIGKILL the node's holder and boot a fresh one on the same upper dirs."""
        node = self.node(name)
        with self.dir.locked():
            self.refresh()
            rec = node.record
            holders.kill([rec.holder, rec.keeper])
            started = holders.start(
                [node_spec(self, rec)], holders.NODE_NAMESPACES, self.id
            )[0]
            rec.holder, rec.keeper = started.holder, started.keeper
            rec.boot += 1
            underlay.connect(
                self.fabric_pid, [underlay.Port(rec.index, rec.holder.pid, rec.address)]
            )
            self.dir.save(self.record)
        log.info("rebooted %s (boot %d)", name, rec.boot)

    def all_processes(self) -> list[ProcRef | None]:
        refs: list[ProcRef | None] = [self.record.controlplane]
        for rec in self.record.nodes:
            refs += [rec.holder, rec.keeper]
        return [*refs, self.record.fabric, self.record.fabric_keeper]


def node_spec(cluster: SandboxCluster, rec: NodeRecord) -> str:
    """Write the holder spec of a node into its state dir; return its path."""
    image = ensure_image(cluster.dir.path.parent.parent, cluster.record.cni_bin_set)
    base = cluster.dir.node_dir(rec.name)
    overlays = []
    for target, lower in layer_dirs(image).items():
        sub = target.strip("/")
        upper, work = base / "upper" / sub, base / "work" / sub
        upper.mkdir(parents=True, exist_ok=True)
        work.mkdir(parents=True, exist_ok=True)
        overlays.append(
            {
                "target": target,
                "lower": [str(lower), target],
                "upper": str(upper),
                "work": str(work),
            }
        )
    spec = {
        "mode": "node",
        "hostname": rec.name,
        "overlays": overlays,
        "run_size": RUN_SIZE,
        "sysctls": BOOT_SYSCTLS,
    }
    path = base / "holder.json"
    path.write_text(json.dumps(spec, indent=1))
    return str(path)


class SandboxProvider:
    """Clusters of namespace nodes on this machine (needs root)."""

    name = "sandbox"

    def __init__(self, home: Path | None = None) -> None:
        self.home = home or state_home()
        self.post_create: list[PostCreateHook] = []

    def create(
        self, spec: ClusterSpec, lifetime_owner: int | None = None
    ) -> SandboxCluster:
        cdir = ClusterDir(spec.name, self.home)
        with cdir.locked():
            if cdir.exists():
                old = SandboxCluster(cdir, cdir.load())
                if any(r is not None and r.alive() for r in old.all_processes()):
                    raise SandboxError(
                        f"sandbox cluster {spec.name!r} already exists; "
                        f"run `cniscrub-lab down --name {spec.name}` first"
                    )
                log.warning("removing the remains of crashed cluster %s", spec.name)
                _remove(old)
            ensure_image(self.home, spec.cni_bin_set)
            record = ClusterRecord(
                name=spec.name,
                id=uuid.uuid4().hex,
                created=time.time(),
                cni_bin_set=spec.cni_bin_set,
                lifetime_owner=ProcRef.of(lifetime_owner) if lifetime_owner else None,
            )
            record.nodes = [
                NodeRecord(
                    n,
                    i,
                    "control-plane" if i == 0 else "worker",
                    underlay.node_address(i),
                )
                for i, n in enumerate(node_names(spec.name, spec.nodes))
            ]
            cdir.save(record)
            cluster = SandboxCluster(cdir, record)
            try:
                _boot_all(cluster)
                cdir.save(record)
                for hook in self.post_create:
                    hook(cluster, spec)
            except BaseException:
                _remove(cluster)
                raise
        return cluster

    def get(self, name: str) -> SandboxCluster:
        cdir = ClusterDir(name, self.home)
        return SandboxCluster(cdir, cdir.load())

    def list_clusters(self) -> list[str]:
        return [d.name for d in list_cluster_dirs(self.home) if d.exists()]

    def delete(self, name: str) -> bool:
        """Remove the cluster; True if something was there. Idempotent."""
        cdir = ClusterDir(name, self.home)
        if not cdir.path.exists():
            return False
        with cdir.locked():
            if cdir.exists():
                _remove(SandboxCluster(cdir, cdir.load()))
            else:
                shutil.rmtree(cdir.path, ignore_errors=True)
        return True


def _boot_all(cluster: SandboxCluster) -> None:
    record = cluster.record
    fabric = holders.start([{"mode": "fabric"}], holders.FABRIC_NAMESPACES, record.id)[
        0
    ]
    record.fabric, record.fabric_keeper = fabric.holder, fabric.keeper
    cluster.dir.save(record)
    underlay.setup_fabric(fabric.holder.pid)
    specs = [node_spec(cluster, rec) for rec in record.nodes]
    started = holders.start(specs, holders.NODE_NAMESPACES, record.id)
    for rec, st in zip(record.nodes, started, strict=True):
        rec.holder, rec.keeper = st.holder, st.keeper
    cluster.dir.save(record)
    underlay.connect(
        fabric.holder.pid,
        [
            underlay.Port(r.index, st.holder.pid, r.address)
            for r, st in zip(record.nodes, started, strict=True)
        ],
    )


def _remove(cluster: SandboxCluster) -> None:
    """Kill every process of the cluster, then delete its state directory."""
    holders.kill(cluster.all_processes())
    from harness.providers.sandbox.gc import kill_marked, unmount_under

    kill_marked({cluster.id})
    unmount_under(cluster.dir.path)
    shutil.rmtree(cluster.dir.path, ignore_errors=True)
