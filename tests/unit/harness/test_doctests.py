"""The ``>>>`` examples in module docstrings are true (those not marked +SKIP)."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "cniscrub.node.command",
    "harness.emulation.images",
    "harness.emulation.kubelet.podspec",
    "harness.emulation.kubelet.podstatus",
    "harness.emulation.controlplane.nodes",
    "harness.flannel_install",
    "harness.providers.sandbox.provider",
    "harness.providers.sandbox.underlay",
    "harness.wait",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    result = doctest.testmod(
        importlib.import_module(name), optionflags=doctest.ELLIPSIS
    )
    assert result.attempted > 0, f"{name} has no runnable example"
    assert result.failed == 0
