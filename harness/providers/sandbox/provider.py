"""Create, find, reboot, stop/start and delete sandbox clusters (kind-style names and
semantics); implements ``harness.providers.base.Provider`` and ``Cluster``.

Node names follow kind: ``<cluster>-control-plane``, ``<cluster>-worker``,
``<cluster>-worker2``, ... ``delete`` is idempotent like ``rm -f`` and touches only what
the cluster record owns. A failed ``create`` removes everything it made. Reboot, stop
and start are the same two moves: SIGKILL the node's holder (every process of the node
dies; /etc /opt /var upper dirs stay) and, except for stop, boot a fresh holder on the
same upper dirs.

>>> node_names("lab", 3)
['lab-control-plane', 'lab-worker', 'lab-worker2']
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cniscrub.node.command import CommandResult
from harness.providers.base import Cluster, ClusterSpec, Node, Provider
from harness.providers.sandbox import holders, underlay
from harness.providers.sandbox.image import check_plugins, ensure_image, layer_dirs
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
from harness.providers.sandbox.teardown import recorded_processes, remove_cluster

log = logging.getLogger(__name__)

RUN_SIZE = "256m"
# what kubeadm's prerequisites put in /etc/sysctl.d and a real boot applies again
BOOT_SYSCTLS = {"net/ipv4/ip_forward": "1"}

if TYPE_CHECKING:
    from harness.providers.sandbox.gc import GcReport

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

    def marker_env(self) -> dict[str, str]:
        """The environment (ownership marker included) of every process it starts."""
        return holders.marker_env(self.id, self.dir.home)

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
        self._power(name, off=True, on=True)

    def stop(self, name: str) -> None:
        """Power the node off: its holder (PID 1 of the node) and so every process of
        the node is SIGKILLed; the upper dirs (/etc /opt /var) stay. Idempotent."""
        self._power(name, off=True, on=False)

    def start(self, name: str) -> None:
        """Power a stopped node on: boots like after a reboot. Idempotent."""
        self._power(name, off=False, on=True)

    def _power(self, name: str, *, off: bool, on: bool) -> None:
        node = self.node(name)
        with self.dir.locked():
            self.refresh()
            rec = node.record
            if off:
                holders.kill([rec.holder, rec.keeper])
                rec.holder = rec.keeper = None
                rec.stopped = True
                self.dir.save(self.record)
            if on and (rec.stopped or rec.holder is None or not rec.holder.alive()):
                self._boot(rec)
        log.info("%s %s (boot %d)", "powered" if on else "stopped", name, rec.boot)

    def _boot(self, rec: NodeRecord) -> None:
        started = holders.start(
            [node_spec(self, rec)], holders.NODE_NAMESPACES, self.marker_env()
        )
        rec.holder, rec.keeper = started[0].holder, started[0].keeper
        rec.boot += 1
        rec.stopped = False
        underlay.connect(
            self.fabric_pid, [underlay.Port(rec.index, rec.holder.pid, rec.address)]
        )
        self.dir.save(self.record)

    def run_cleaner(
        self,
        node: Node,
        argv: Sequence[str],
        *,
        timeout: float = 300.0,
        env: Mapping[str, str] | None = None,
    ) -> CommandResult:
        """The shipped cleaner inside the node: the command line of the Job in
        ``deploy/job.yaml`` (its ``cniscrub`` console script, installed beside this
        interpreter, which sandbox nodes see along with the host's /usr)."""
        from harness.providers.shipped_cleaner import local_command

        return self.node(node.name).exec(
            [*local_command(), *argv],
            check=False,
            timeout=timeout,
            env=dict(env) if env else None,
        )

    def all_processes(self) -> list[ProcRef | None]:
        return recorded_processes(self.record)

    def details(self) -> dict[str, Any]:
        """What ``cniscrub-lab status`` shows beyond the protocol."""
        return {
            "id": self.id,
            "api_url": self.record.api_url or None,
            "nodes": {
                n.name: {
                    "running": bool(n.record.holder and n.record.holder.alive()),
                    "stopped": n.record.stopped,
                    "boot": n.record.boot,
                    "holder_pid": n.record.holder.pid if n.record.holder else None,
                }
                for n in self._nodes
            },
        }


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
    """Clusters of namespace nodes on this machine (needs root).

    ``lifetime_owner``: a pid (e.g. the pytest run) recorded in every cluster this
    provider creates, so ``cniscrub-lab gc`` removes them once that process is gone.
    """

    name = "sandbox"

    def __init__(
        self, home: Path | None = None, lifetime_owner: int | None = None
    ) -> None:
        self.home = home or state_home()
        self.lifetime_owner = lifetime_owner
        self.post_create: list[PostCreateHook] = [_start_control_plane]

    def unavailable(self) -> str | None:
        """Why sandbox clusters cannot run here, or None."""
        if os.geteuid() != 0:
            return "sandbox nodes need root (network namespaces, overlayfs)"
        for tool in ("unshare", "nsenter", "ip", "iptables"):
            if shutil.which(tool) is None:
                return (
                    f"`{tool}` is not installed "
                    "(apt-get install util-linux iproute2 iptables)"
                )
        try:
            check_plugins()
        except SandboxError as exc:
            return str(exc)
        return None

    def create(
        self, spec: ClusterSpec, lifetime_owner: int | None = None
    ) -> SandboxCluster:
        owner = lifetime_owner or self.lifetime_owner
        cdir = ClusterDir(spec.name, self.home)
        with cdir.locked():
            if cdir.exists():
                old = cdir.load()
                if any(r is not None and r.alive() for r in recorded_processes(old)):
                    raise SandboxError(
                        f"sandbox cluster {spec.name!r} already exists; "
                        f"run `cniscrub-lab down --name {spec.name}` first"
                    )
                log.warning("removing the remains of crashed cluster %s", spec.name)
                remove_cluster(cdir, old)
            ensure_image(self.home, spec.cni_bin_set)
            record = ClusterRecord(
                name=spec.name,
                id=uuid.uuid4().hex,
                created=time.time(),
                cni_bin_set=spec.cni_bin_set,
                lifetime_owner=ProcRef.of(owner) if owner else None,
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
                remove_cluster(cdir, record)
                raise
        return cluster

    def gc(self, everything: bool = False) -> GcReport:
        """Remove crashed clusters (all with ``everything``); see :mod:`.gc`."""
        from harness.providers.sandbox.gc import collect

        return collect(self.home, everything)

    def get(self, name: str) -> SandboxCluster:
        cdir = ClusterDir(name, self.home)
        return SandboxCluster(cdir, cdir.load())

    def list_clusters(self) -> list[str]:
        return [d.name for d in list_cluster_dirs(self.home) if d.exists()]

    def delete(self, name: str) -> None:
        """Remove the cluster and everything it owns. Idempotent, like ``rm -f``."""
        cdir = ClusterDir(name, self.home)
        if not cdir.path.exists():
            return
        with cdir.locked():
            if cdir.exists():
                remove_cluster(cdir, cdir.load())
            else:
                shutil.rmtree(cdir.path, ignore_errors=True)


def _boot_all(cluster: SandboxCluster) -> None:
    record = cluster.record
    env = cluster.marker_env()
    fabric = holders.start([{"mode": "fabric"}], holders.FABRIC_NAMESPACES, env)[0]
    record.fabric, record.fabric_keeper = fabric.holder, fabric.keeper
    cluster.dir.save(record)
    underlay.setup_fabric(fabric.holder.pid)
    specs = [node_spec(cluster, rec) for rec in record.nodes]
    started = holders.start(specs, holders.NODE_NAMESPACES, env)
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


def _start_control_plane(cluster: SandboxCluster, spec: ClusterSpec) -> None:
    """The API stand-in, controllers and kubelets (see harness.emulation.controlplane)."""
    from harness.emulation.controlplane.hook import start

    start(cluster, spec)


if TYPE_CHECKING:  # mypy holds the sandbox to the protocols

    def _conforms(p: SandboxProvider, c: SandboxCluster, n: SandboxNode) -> None:
        _p: Provider = p
        _c: Cluster = c
        _n: Node = n
