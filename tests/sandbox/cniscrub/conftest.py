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
from csb_nodebuilder import Node


def _host_state() -> tuple[str, int]:
    netns = subprocess.run(
        ["ip", "netns", "list"], capture_output=True, text=True, timeout=30, check=False
    ).stdout
    mounts = subprocess.run(
        ["findmnt", "-rn"], capture_output=True, text=True, timeout=30, check=False
    ).stdout
    ours = "\n".join(sorted(ln for ln in netns.splitlines() if ln.startswith("csb-")))
    # other suites run concurrently on this machine: count only our own mounts
    return ours, sum("csb-" in ln for ln in mounts.splitlines())


@pytest.fixture(scope="session", autouse=True)
def _no_leaks() -> Iterator[None]:
    """Our namespaces and mounts must be gone after the run."""
    if os.geteuid() != 0 or not shutil.which("ip"):
        yield
        return
    before = _host_state()
    yield
    after = _host_state()
    assert after[0] == before[0], f"leaked namespaces: {after[0]}"
    assert after[1] == before[1], f"mount count changed: {before[1]} -> {after[1]}"


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
