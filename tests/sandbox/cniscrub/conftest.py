"""Fixtures for cniscrub's real-kernel tests: throwaway light nodes, always torn down
(the leak check is the shared one in ``tests/sandbox/conftest.py``).

Skips cleanly (with the reason) when not root or when ``ip netns`` is unusable.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from csb_nodebuilder import Node


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
