"""A 3-node sandbox cluster shared by the ``cniscrub cluster`` tests of one module; its
node-monitor grace period is short, so a powered-off node turns NotReady in seconds."""

from __future__ import annotations

import pytest

from harness.kube import find_kubectl
from harness.providers.base import Cluster

GRACE = 4.0  # seconds without kubelet status before a node is Ready=Unknown


@pytest.fixture(scope="module")
def lab_cluster(cluster_factory_module) -> Cluster:  # type: ignore[no-untyped-def]
    if find_kubectl() is None:
        pytest.skip(
            "kubectl not found on PATH or $KUBECTL (scripts/bootstrap.sh installs it)"
        )
    return cluster_factory_module(nodes=3, node_monitor_grace_period=GRACE)
