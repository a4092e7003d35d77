"""Fixtures of the kube-router emulation's real-kernel tests (see :mod:`kr_lab`)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from kr_lab import PLUGINS, Lab, make_lab


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[Lab]:
    if os.geteuid() != 0 or not PLUGINS.is_dir():
        pytest.skip("needs root and the CNI plugins in /usr/lib/cni")
    if shutil.which("ipset") is None:
        pytest.skip("needs ipset (scripts/bootstrap.sh installs it)")
    lab = make_lab(tmp_path)
    try:
        yield lab
    finally:
        lab.teardown()
