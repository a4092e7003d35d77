"""The ``>>>`` examples in the flannel emulation's docstrings stay true."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "checks",
    "cni_errors",
    "image",
    "klog",
    "model",
    "netconf",
    "options",
    "rules",
    "subnet_env",
    "trafficmgr_iptables",
    "trafficmgr_nft",
    "versions",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(f"harness.emulation.flannel.{name}")
    result = doctest.testmod(module)
    assert result.attempted > 0
    assert result.failed == 0
