"""The kube-router image refuses what it does not emulate (its doctests run with
the harness's, tests/unit/harness/test_doctests.py)."""

from __future__ import annotations

import pytest

from harness.emulation.images.base import ContainerContext
from harness.emulation.kube_router.image import KubeRouterImage


@pytest.mark.parametrize("argv", [["ls"], ["sh", "-c"], ["/bin/bash", "-c", "true"]])
def test_unknown_argv_exits_127(
    argv: list[str], capfd: pytest.CaptureFixture[str]
) -> None:
    # like a missing executable in the real image (kube-router-footprint.md §1 lists
    # what the standard manifests run: the init container's sh -c and the entrypoint)
    ctx = ContainerContext(
        image="docker.io/cloudnativelabs/kube-router:v2.11.1",
        node_name="n1",
        pod_name="kube-router-x",
        pod_namespace="kube-system",
        pod_uid="u",
        container_name="c",
        init=True,
    )
    assert KubeRouterImage().run(argv, ctx) == 127
    assert "not emulated" in capfd.readouterr().err
