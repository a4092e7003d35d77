"""Garbage collection: remove what a crashed run left behind.

A cluster is *crashed* when the process that owned its lifetime (a pytest run) is gone,
or when its fabric or any node holder is gone. Leftovers are found only by ownership:
``cluster.json`` records (owner ``cniscrub-lab``) under the state root, processes whose
environment carries ``CNISCRUB_LAB_CLUSTER=<id>``, and mounts inside a cluster's state
directory. Nothing is matched by a broad name pattern.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from harness.providers.sandbox import holders
from harness.providers.sandbox.state import (
    MARKER_ENV,
    ClusterDir,
    ClusterRecord,
    ProcRef,
    SandboxError,
    list_cluster_dirs,
    state_home,
)

log = logging.getLogger(__name__)
_MARKER = MARKER_ENV.encode() + b"="


@dataclass
class GcReport:
    clusters_removed: list[str] = field(default_factory=list)
    clusters_kept: list[str] = field(default_factory=list)
    processes_killed: list[int] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)


def marked_processes() -> dict[int, str]:
    """pid -> cluster id, for every process carrying the ownership marker."""
    found: dict[int, str] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            environ = Path(entry.path, "environ").read_bytes()
        except OSError:
            continue
        for var in environ.split(b"\0"):
            if var.startswith(_MARKER):
                found[int(entry.name)] = var[len(_MARKER) :].decode(errors="replace")
                break
    return found


def kill_marked(cluster_ids: set[str]) -> list[int]:
    """SIGKILL every process marked with one of the ids; return their pids."""
    pids = [pid for pid, cid in marked_processes().items() if cid in cluster_ids]
    refs = []
    for pid in pids:
        try:
            refs.append(ProcRef.of(pid))
            os.kill(pid, signal.SIGKILL)
        except (ProcessLookupError, FileNotFoundError, ValueError):
            continue
    holders.kill(list(refs))
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


def is_crashed(record: ClusterRecord) -> bool:
    if record.lifetime_owner is not None and not record.lifetime_owner.alive():
        return True
    if record.fabric is None or not record.fabric.alive():
        return True
    return any(n.holder is None or not n.holder.alive() for n in record.nodes)


def collect(home: Path | None = None, everything: bool = False) -> GcReport:
    """Remove crashed clusters (all clusters with ``everything``) and stray processes."""
    home = home or state_home()
    report = GcReport()
    live_ids: set[str] = set()
    for cdir in list_cluster_dirs(home):
        try:
            record = cdir.load()
        except SandboxError as exc:
            report.unreadable.append(f"{cdir.path}: {exc}")
            continue
        if everything or is_crashed(record):
            _remove_dir(cdir, record, report)
        else:
            live_ids.add(record.id)
            report.clusters_kept.append(record.name)
    strays = {cid for cid in marked_processes().values() if cid not in live_ids}
    report.processes_killed += kill_marked(strays)
    return report


def _remove_dir(cdir: ClusterDir, record: ClusterRecord, report: GcReport) -> None:
    from harness.providers.sandbox.provider import SandboxCluster

    cluster = SandboxCluster(cdir, record)
    holders.kill(cluster.all_processes())
    report.processes_killed += kill_marked({record.id})
    unmount_under(cdir.path)
    shutil.rmtree(cdir.path, ignore_errors=True)
    report.clusters_removed.append(record.name)
    log.info("gc: removed cluster %s (%s)", record.name, cdir.path)


def namespaces_of(pids: list[int]) -> set[str]:
    """The namespace identities (``net:[4026...]``, ``mnt:[...]``, ...) of processes,
    leaving out the namespaces this process itself lives in (the host's)."""
    own = {
        os.readlink(f"/proc/self/ns/{k}") for k in ("net", "mnt", "uts", "pid", "ipc")
    }
    found: set[str] = set()
    for pid in pids:
        for kind in ("net", "mnt", "uts", "pid", "ipc"):
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
        for kind in ("net", "mnt", "uts", "pid", "ipc", "pid_for_children"):
            try:
                ns = os.readlink(f"/proc/{entry.name}/ns/{kind}")
            except OSError:
                continue
            if ns in candidates:
                held.add(ns)
    return held
