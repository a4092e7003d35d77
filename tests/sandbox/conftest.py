"""Shared by every sandbox test directory: the one leak check of light nodes.

Light nodes (:mod:`harness.providers.light`) record every network namespace they make;
at the end of the session none of them (and no mount naming them) may be left. Only
this process's namespaces are looked at: other runs may work on the machine too.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import pytest

from harness.providers.light import leftovers


@pytest.fixture(scope="session", autouse=True)
def _no_light_node_leaks() -> Iterator[None]:
    yield
    if os.geteuid() != 0 or not shutil.which("ip"):
        return
    assert leftovers() == [], "light-node namespaces or mounts left behind"
