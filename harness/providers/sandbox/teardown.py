"""Tear a sandbox cluster down by ownership: its recorded processes, every process that
carries its marker, the mounts inside its state directory, then the directory itself.

The one teardown both ``SandboxProvider.delete`` and ``gc`` use. Nothing is matched by a
broad name pattern: a process belongs to a cluster because its environment carries
``CNISCRUB_LAB_CLUSTER=<cluster id>``, and to a state root (one lab among several on the
machine) because it carries ``CNISCRUB_LAB_CLUSTER_HOME=<root>``.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import subprocess
from pathlib import Path
from typing import NamedTuple

from harness.providers.sandbox import holders
from harness.providers.sandbox.state import (
    MARKER_ENV,
    MARKER_HOME_ENV,
    ClusterDir,
    ClusterRecord,
    ProcRef,
)

log = logging.getLogger(__name__)
NAMESPACE_KINDS = ("net", "mnt", "uts", "pid", "ipc")


def recorded_processes(record: ClusterRecord) -> list[ProcRef | None]:
    """Every process the record names: control plane, node holders and keepers, fabric."""
    refs: list[ProcRef | None] = [record.controlplane]
    for rec in record.nodes:
        refs += [rec.holder, rec.keeper]
    return [*refs, record.fabric, record.fabric_keeper]


def remove_cluster(cdir: ClusterDir, record: ClusterRecord) -> list[int]:
    """Kill every process of the cluster, unmount and delete its state directory;
    return the pids killed by marker."""
    holders.kill(recorded_processes(record))
    killed = kill_marked({record.id})
    unmount_under(cdir.path)
    shutil.rmtree(cdir.path, ignore_errors=True)
    log.info("removed cluster %s (%s)", record.name, cdir.path)
    return killed


class Mark(NamedTuple):
    """A process's ownership marker: the owner's id and, for sandbox clusters, the
    state root holding its record ("" when the process carries none)."""

    owner: str
    home: str


def process_marks(marker: str = MARKER_ENV) -> dict[int, Mark]:
    """pid -> :class:`Mark`, for every process carrying the ownership marker (another
    marker variable, e.g. the lab Docker engine's, may be named)."""
    prefix, home_prefix = marker.encode() + b"=", MARKER_HOME_ENV.encode() + b"="
    found: dict[int, Mark] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            environ = Path(entry.path, "environ").read_bytes()
        except OSError:
            continue
        owner = home = None
        for var in environ.split(b"\0"):
            if var.startswith(prefix):
                owner = var[len(prefix) :].decode(errors="replace")
            elif var.startswith(home_prefix):
                home = var[len(home_prefix) :].decode(errors="replace")
        if owner is not None:
            found[int(entry.name)] = Mark(owner, home or "")
    return found


def marked_processes(marker: str = MARKER_ENV) -> dict[int, str]:
    """pid -> owner id (cluster id), for every process carrying the marker."""
    return {pid: mark.owner for pid, mark in process_marks(marker).items()}


def kill_marked(cluster_ids: set[str]) -> list[int]:
    """SIGKILL every process marked with one of the ids; return their pids."""
    pids = [pid for pid, cid in marked_processes().items() if cid in cluster_ids]
    refs: list[ProcRef | None] = []
    for pid in pids:
        try:
            refs.append(ProcRef.of(pid))
            os.kill(pid, signal.SIGKILL)
        except (ProcessLookupError, FileNotFoundError, ValueError):
            continue
    holders.kill(refs)
    return pids


def unmount_under(path: Path) -> None:
    """Lazily unmount anything mounted inside ``path`` (deepest first)."""
    prefix = str(path.resolve()) + "/"
    points = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        mnt = line.split()[4].encode().decode("unicode_escape")
        if mnt.startswith(prefix):
            points.append(mnt)
    for mnt in sorted(points, key=len, reverse=True):
        subprocess.run(["umount", "-l", mnt], check=False, capture_output=True)


def namespaces_of(pids: list[int]) -> set[str]:
    """The namespace identities (``net:[4026...]``, ``mnt:[...]``, ...) of processes,
    leaving out the namespaces this process itself lives in (the host's)."""
    own = {os.readlink(f"/proc/self/ns/{k}") for k in NAMESPACE_KINDS}
    found: set[str] = set()
    for pid in pids:
        for kind in NAMESPACE_KINDS:
            try:
                found.add(os.readlink(f"/proc/{pid}/ns/{kind}"))
            except OSError:
                continue
    return found - own


def namespaces_in_use(candidates: set[str]) -> set[str]:
    """Which of ``candidates`` any process on the machine still holds."""
    held: set[str] = set()
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        for kind in (*NAMESPACE_KINDS, "pid_for_children"):
            try:
                ns = os.readlink(f"/proc/{entry.name}/ns/{kind}")
            except OSError:
                continue
            if ns in candidates:
                held.add(ns)
    return held
