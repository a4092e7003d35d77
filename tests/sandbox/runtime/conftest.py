"""Fixture ``node``: a throwaway node netns with temp dirs for the runtime emulation.

The node netns and every pod netns are bind mounts in a temporary directory (never
the host's /run/netns); the CLI runs inside the node netns through ``nsenter --net``
(no new mount namespace, so its netns mounts persist). The finalizer deletes every pod,
the node netns (taking cni0 and veths with it) and unmounts the temp netns dirs.
"""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from rtnode import PLUGINS, REPO, Node, requirements

from harness.emulation.runtime import netns


def _host_snapshot() -> tuple[str, list[str]]:
    netns_list = subprocess.run(
        ["ip", "netns", "list"], capture_output=True, text=True, check=False
    ).stdout
    mounts = subprocess.run(
        ["findmnt", "-rn", "-o", "TARGET"], capture_output=True, text=True, check=False
    ).stdout.splitlines()
    return netns_list, mounts


@pytest.fixture
def node(tmp_path: Path) -> Iterator[Node]:
    """A fresh node netns with temp conf/bin/cache/state/netns dirs."""
    reason = requirements()
    if reason:
        pytest.skip(reason)
    host_netns_before, mounts_before = _host_snapshot()
    root = tmp_path / "node"
    for sub in ("conf", "bin", "cache", "state", "netns", "ipam", "nodes"):
        (root / sub).mkdir(parents=True)
    for plugin in PLUGINS:
        (root / "bin" / plugin).symlink_to(f"/usr/lib/cni/{plugin}")
    ns_path = netns.create(str(root / "nodes" / f"node-{uuid.uuid4().hex[:8]}"))
    env = dict(os.environ)
    env.update(
        CNISCRUB_RUNTIME_CONF_DIR=str(root / "conf"),
        CNISCRUB_RUNTIME_BIN_DIR=str(root / "bin"),
        CNISCRUB_RUNTIME_CACHE_DIR=str(root / "cache"),
        CNISCRUB_RUNTIME_STATE_DIR=str(root / "state"),
        CNISCRUB_RUNTIME_NETNS_DIR=str(root / "netns"),
        PYTHONPATH=str(REPO),
    )
    the_node = Node(root, ns_path, env)
    try:
        yield the_node
    finally:
        for record in (root / "state" / "sandboxes").glob("*.json"):
            the_node.cli("del", "--sandbox-id", record.stem, "--force")
        for leftover in (root / "netns").iterdir():
            netns.remove(str(leftover))
        netns.remove(ns_path)
        netns.release_dir(str(root / "netns"))
        netns.release_dir(str(root / "nodes"))
    host_netns_after, mounts_after = _host_snapshot()
    # the host's own namespace lists: nothing of ours may appear or stay
    new_netns = set(host_netns_after.split()) - set(host_netns_before.split())
    assert not [n for n in new_netns if n.startswith(("cni-", "node-"))], new_netns
    assert not [m for m in mounts_after if str(root) in m], "temp netns mounts left"
    assert len(mounts_after) <= len(mounts_before) + len(
        [m for m in set(mounts_after) - set(mounts_before) if str(root) not in m]
    )
