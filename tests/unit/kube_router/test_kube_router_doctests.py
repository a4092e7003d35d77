"""The ``>>>`` examples of the kube-router emulation's modules are true."""

from __future__ import annotations

import doctest
import importlib

import pytest

from harness.emulation.images.base import ContainerContext
from harness.emulation.kube_router.image import KubeRouterImage

MODULES = [
    "harness.kube_router_install",
    *(
        f"harness.emulation.kube_router.{name}"
        for name in (
            "cleanup",
            "cniconf",
            "image",
            "model",
            "netpol",
            "options",
            "rules",
            "versions",
        )
    ),
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    result = doctest.testmod(
        importlib.import_module(name), optionflags=doctest.ELLIPSIS
    )
    assert result.attempted > 0, f"{name} has no runnable example"
    assert result.failed == 0


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
