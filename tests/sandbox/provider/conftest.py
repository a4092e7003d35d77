"""Helpers for the sandbox provider tests."""

from __future__ import annotations

from typing import Any

import pytest

from harness.providers.sandbox.teardown import marked_processes, namespaces_of


def cluster_footprint(cluster: Any) -> dict[str, object]:
    """Everything a cluster holds on the machine, by ownership."""
    pids = [pid for pid, cid in marked_processes().items() if cid == cluster.id]
    return {
        "pids": pids,
        "namespaces": namespaces_of(pids),
        "state_dir": cluster.state_dir,
    }


@pytest.fixture
def footprint() -> object:
    return cluster_footprint
