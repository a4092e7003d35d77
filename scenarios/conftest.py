"""The scenario suite: end-to-end uninstall stories on real (sandbox) clusters.

Run with ``tox -e scenarios`` or ``pytest scenarios``. Copy a file to write your own:
each test builds a cluster through the ``cluster_factory`` fixture, installs Flannel
with its manifest, disrupts it, and asserts node state through :mod:`harness.checks`.
"""

from __future__ import annotations

import pytest

from harness.kube import find_kubectl


@pytest.fixture(autouse=True)
def _needs_kubectl() -> None:
    if find_kubectl() is None:
        pytest.skip(
            "kubectl not found on PATH or $KUBECTL (scripts/bootstrap.sh installs it)"
        )
