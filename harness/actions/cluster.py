"""Cluster-wide actions: the foreign baseline a real node carries, labelled snapshots of
the whole cluster, and bounded waits.

:func:`put_baseline` runs once before a run's first step (scenario ``cluster.baseline``;
runbook validation too): it snapshots every node bare, applies
:mod:`harness.baseline` (plus an operator's own script), snapshots again, and keeps the
objects that appeared or changed as the node's *foreign* objects: what every cleanup
must leave intact (``expect: {baseline_intact: true}``). Files under ``/run`` are not
kept (a reboot empties it on real nodes too).

``snapshot: LABEL`` stores the cluster's state for ``unchanged_since: LABEL`` and for
the state diff a failed expectation prints.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from harness import baseline as foreign
from harness.actions.context import Action, Context
from harness.snapshot.diff import diff as diff_objects
from harness.snapshot.state import snapshot_cluster, snapshot_node

VOLATILE = ("file /run/", "dir /run/", "dir /run")


def put_baseline(
    ctx: Context,
    extra: str = "",
    podman_dir: str | None = None,
    changes: Sequence[str] = (),
) -> None:
    """The foreign baseline on every node; records ``ctx.baseline`` (but the objects
    matching a ``changes`` regex: those the story itself changes) and the boot script."""
    bare = {n.name: snapshot_node(n).objects for n in ctx.cluster.nodes}
    script = foreign.script(podman_dir) if podman_dir else foreign.script()
    for node in ctx.cluster.nodes:
        node.exec(["sh", "-c", script])
        if extra:
            node.exec(["bash", "-c", extra], timeout=120)
    for node in ctx.cluster.nodes:
        now = snapshot_node(node).objects
        change = diff_objects(bare[node.name], now)
        kept = [*change.appeared, *change.changed]
        ctx.baseline[node.name] = {
            name: now[name]
            for name in kept
            if not name.startswith(VOLATILE)
            and not any(re.search(c, name) for c in changes)
        }
    ctx.boot_script = foreign.boot_script() + (f"\n{extra}\n" if extra else "")


def take_snapshot(ctx: Context, label: str) -> None:
    ctx.snapshots[label] = snapshot_cluster(
        ctx.cluster,
        [n for n in ctx.cluster.nodes if n.name not in ctx.found.get("stopped", [])],
    )


def run_snapshot(ctx: Context, args: Any) -> None:
    take_snapshot(ctx, str(args))


SNAPSHOT = Action(
    "snapshot", "cluster", "remember the cluster's state under a label", run_snapshot
)
