"""Garbage collection: remove what a crashed run left behind in one state root.

A cluster is *crashed* when the process that owned its lifetime (a pytest run) is gone,
or when its fabric or a node holder that should run is gone (a node powered off with
``stop`` is not a crash). A cluster whose lock is held (an ``up``, ``down`` or reboot at
work, perhaps by another process) is left alone. Leftovers are found only by ownership:
``cluster.json`` records (owner ``cniscrub-lab``) under the state root, processes whose
environment carries ``CNISCRUB_LAB_CLUSTER=<id>`` *and* this root in
``CNISCRUB_LAB_CLUSTER_HOME`` (another root on the machine is another lab, whose live
clusters are none of ours), and mounts inside a cluster's state directory (see
:mod:`harness.providers.sandbox.teardown`, shared with ``delete``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from harness.providers.sandbox.state import (
    ClusterDir,
    ClusterRecord,
    SandboxError,
    list_cluster_dirs,
    state_home,
)
from harness.providers.sandbox.teardown import (
    kill_marked,
    process_marks,
    remove_cluster,
)


@dataclass
class GcReport:
    clusters_removed: list[str] = field(default_factory=list)
    clusters_kept: list[str] = field(default_factory=list)
    processes_killed: list[int] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)


def is_crashed(record: ClusterRecord) -> bool:
    if record.lifetime_owner is not None and not record.lifetime_owner.alive():
        return True
    if record.fabric is None or not record.fabric.alive():
        return True
    return any(
        not n.stopped and (n.holder is None or not n.holder.alive())
        for n in record.nodes
    )


def collect(home: Path | None = None, everything: bool = False) -> GcReport:
    """Remove this root's crashed clusters (all of them with ``everything``) and the
    processes marked with this root whose cluster has no record in it."""
    home = (home or state_home()).resolve()
    # Read the processes before the records: a process starts only after its
    # cluster's record is saved, so a marked process whose record is missing below
    # belongs to a cluster that was removed (or is being removed): a stray.
    ours = {m.owner for m in process_marks().values() if m.home == str(home)}
    report = GcReport()
    recorded: set[str] = set()
    for cdir in list_cluster_dirs(home):
        cluster_id = _collect_cluster(cdir, everything, report)
        if cluster_id is not None:
            recorded.add(cluster_id)
    report.processes_killed += kill_marked(ours - recorded)
    return report


def _collect_cluster(
    cdir: ClusterDir, everything: bool, report: GcReport
) -> str | None:
    """Remove the cluster if crashed (or ``everything``) and not busy; return the id
    of its record when it has one."""
    try:
        with cdir.locked_if_free() as free:
            try:
                record = cdir.load()
            except SandboxError as exc:
                if free:
                    report.unreadable.append(f"{cdir.path}: {exc}")
                else:  # being created: its record is not written yet
                    report.clusters_kept.append(cdir.name)
                return None
            if free and (everything or is_crashed(record)):
                report.processes_killed += remove_cluster(cdir, record)
                report.clusters_removed.append(record.name)
            else:
                report.clusters_kept.append(record.name)
            return record.id
    except FileNotFoundError:  # removed while we looked
        return None
