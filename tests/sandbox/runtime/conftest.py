"""Fixture ``node``: a throwaway light node with temp dirs for the runtime emulation
(see :mod:`rtnode`). The shared leak check (``tests/sandbox/conftest.py``) covers the
node's namespace; this fixture also checks that the temp netns mounts are gone."""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from rtnode import PLUGINS, REPO, Node, requirements

from harness.emulation.runtime import netns


def _mounts() -> list[str]:
    return subprocess.run(
        ["findmnt", "-rn", "-o", "TARGET"], capture_output=True, text=True, check=False
    ).stdout.splitlines()


@pytest.fixture
def node(tmp_path: Path) -> Iterator[Node]:
    """A fresh node netns with temp conf/bin/cache/state/netns dirs."""
    reason = requirements()
    if reason:
        pytest.skip(reason)
    dirs = tmp_path / "node"
    for sub in ("conf", "bin", "cache", "state", "netns", "ipam"):
        (dirs / sub).mkdir(parents=True)
    for plugin in PLUGINS:
        (dirs / "bin" / plugin).symlink_to(f"/usr/lib/cni/{plugin}")
    env = dict(os.environ)
    env.update(
        CNISCRUB_RUNTIME_CONF_DIR=str(dirs / "conf"),
        CNISCRUB_RUNTIME_BIN_DIR=str(dirs / "bin"),
        CNISCRUB_RUNTIME_CACHE_DIR=str(dirs / "cache"),
        CNISCRUB_RUNTIME_STATE_DIR=str(dirs / "state"),
        CNISCRUB_RUNTIME_NETNS_DIR=str(dirs / "netns"),
        PYTHONPATH=str(REPO),
    )
    the_node = Node(f"rt-{uuid.uuid4().hex[:8]}", dirs, env)
    the_node.make()
    try:
        yield the_node
    finally:
        for record in (dirs / "state" / "sandboxes").glob("*.json"):
            the_node.cli("del", "--sandbox-id", record.stem, "--force")
        for leftover in (dirs / "netns").iterdir():
            netns.remove(str(leftover))
        the_node.destroy()
        netns.release_dir(str(dirs / "netns"))
    assert not [m for m in _mounts() if str(dirs) in m], "temp netns mounts left"
