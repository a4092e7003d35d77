"""Garbage collection: remove what a crashed run left behind.

A cluster is *crashed* when the process that owned its lifetime (a pytest run) is gone,
or when its fabric or a node holder that should run is gone (a node powered off with
``stop`` is not a crash). Leftovers are found only by ownership: ``cluster.json`` records
(owner ``cniscrub-lab``) under the state root, processes whose environment carries
``CNISCRUB_LAB_CLUSTER=<id>``, and mounts inside a cluster's state directory (see
:mod:`harness.providers.sandbox.teardown`, shared with ``delete``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from harness.providers.sandbox.state import (
    ClusterRecord,
    SandboxError,
    list_cluster_dirs,
    state_home,
)
from harness.providers.sandbox.teardown import (
    kill_marked,
    marked_processes,
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
            report.processes_killed += remove_cluster(cdir, record)
            report.clusters_removed.append(record.name)
        else:
            live_ids.add(record.id)
            report.clusters_kept.append(record.name)
    strays = {cid for cid in marked_processes().values() if cid not in live_ids}
    report.processes_killed += kill_marked(strays)
    return report
