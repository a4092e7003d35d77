"""Fixtures for cniscrub's real-kernel tests: throwaway sandbox nodes, always torn down.

Skips cleanly (with the reason) when not root or when ``ip netns`` is unusable.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from csb_nodebuilder import CREATED, Node


def _ours_left() -> tuple[list[str], list[str]]:
    """Namespaces and mounts created by THIS process that still exist."""
    netns = subprocess.run(
        ["ip", "netns", "list"], capture_output=True, text=True, timeout=30, check=False
    ).stdout
    mounts = subprocess.run(
        ["findmnt", "-rn"], capture_output=True, text=True, timeout=30, check=False
    ).stdout
    names = {ln.split()[0] for ln in netns.splitlines() if ln.strip()}
    left = sorted(names & CREATED)
    mnt = [ln for ln in mounts.splitlines() if any(f"/{n} " in ln for n in CREATED)]
    return left, mnt


@pytest.fixture(scope="session", autouse=True)
def _no_leaks() -> Iterator[None]:
    """Every namespace (and its bind mount) we created is gone after the run."""
    yield
    if os.geteuid() != 0 or not shutil.which("ip"):
        return
    left, mounts = _ours_left()
    assert not left, f"leaked namespaces: {left}"
    assert not mounts, f"leaked mounts: {mounts}"


@pytest.fixture
def make_node(tmp_path: Path) -> Iterator[Callable[[], Node]]:
    """Factory of sandbox nodes; every node made is destroyed at teardown."""
    if os.geteuid() != 0:
        pytest.skip("sandbox tests need root (network namespaces)")
    made: list[Node] = []

    def factory() -> Node:
        node = Node.create(tmp_path / f"n{len(made)}")
        made.append(node)
        node.underlay()
        return node

    try:
        yield factory
    finally:
        for node in made:
            node.destroy()


@pytest.fixture
def node(make_node: Callable[[], Node]) -> Node:
    return make_node()
