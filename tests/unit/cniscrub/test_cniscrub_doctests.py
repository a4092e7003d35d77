"""Every cniscrub module's ``>>>`` examples run (they are part of the documentation)."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import cniscrub

MODULES = sorted(
    m.name
    for m in pkgutil.walk_packages(cniscrub.__path__, "cniscrub.")
    if not m.name.endswith("__main__")
)


@pytest.mark.parametrize("name", MODULES)
def test_doctests(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name), verbose=False)
    assert result.failed == 0
