"""A sandbox cluster with its control plane, shared by the control-plane tests."""

from __future__ import annotations

import pytest

from harness.kube import find_kubectl
from harness.providers.base import Cluster

BRIDGE_CONFLIST = """{"cniVersion": "0.3.1", "name": "cbr0", "plugins": [
 {"type": "bridge", "bridge": "cni0", "isGateway": true, "ipMasq": false,
  "ipam": {"type": "host-local", "ranges": [[{"subnet": "%s"}]],
           "routes": [{"dst": "0.0.0.0/0"}]}},
 {"type": "portmap", "capabilities": {"portMappings": true}}]}"""


@pytest.fixture(scope="module")
def cp_cluster(cluster_factory_module) -> Cluster:  # type: ignore[no-untyped-def]
    if find_kubectl() is None:
        pytest.skip(
            "kubectl not found on PATH or $KUBECTL (scripts/bootstrap.sh installs it)"
        )
    return cluster_factory_module(nodes=3)
