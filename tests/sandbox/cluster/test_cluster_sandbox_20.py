"""``cniscrub cluster apply`` on a 20-node sandbox cluster: the same promises as on 3
nodes (see :func:`cluster_lab.check_clean_apply`) with ``--parallel 5``, so the limit
is reached again and again. One cluster, one install, one run: kept cheap.

Facts: flannel-footprint.md §1.1, §2.7, §7; kube-api-standin.md §4.
"""

from __future__ import annotations

import pytest

from harness.kube import find_kubectl
from tests.sandbox.cluster.cluster_lab import (
    Audit,
    check_clean_apply,
    flannel_up,
    run_cluster,
)

pytestmark = [pytest.mark.sandbox, pytest.mark.slow, pytest.mark.destructive]
NODES, PARALLEL = 20, 5


def test_twenty_nodes_cleaned_five_at_a_time(cluster_factory) -> None:  # type: ignore[no-untyped-def]
    if find_kubectl() is None:
        pytest.skip(
            "kubectl not found on PATH or $KUBECTL (scripts/bootstrap.sh installs it)"
        )
    cluster = cluster_factory(nodes=NODES)
    flannel_up(cluster)
    mark = Audit.mark(cluster)
    run = run_cluster(
        cluster, "apply", "--cni", "flannel", "--yes", "--parallel", str(PARALLEL)
    )
    assert run.rc == 0, run.stderr
    check_clean_apply(cluster, run.doc, Audit(cluster, since=mark), PARALLEL)
