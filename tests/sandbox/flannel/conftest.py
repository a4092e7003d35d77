"""Fixtures of the Flannel emulation's real-kernel tests (see :mod:`flannel_lab`)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from flannel_lab import PLUGINS, Lab, Node, next_prefix, sh


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[Lab]:
    if os.geteuid() != 0 or shutil.which("ip") is None or not PLUGINS.is_dir():
        pytest.skip("needs root, iproute2 and the CNI plugins in /usr/lib/cni")
    lab = Lab(next_prefix(), tmp_path)
    try:
        for i in (1, 2):
            node = Node(
                f"node{i}",
                f"{lab.prefix}-node{i}",
                tmp_path / f"node{i}",
                f"198.18.0.{i}",
                f"fd00:198:18::{i}",
                f"10.244.{i}.0/24",
                f"fd00:10:244:{i}::/64",
            )
            node.make()
            lab.nodes.append(node)
        n1, n2 = (n.ns for n in lab.nodes)
        sh(["ip", "-n", n1, "link", "add", "eth0", "type", "veth",
            "peer", "name", "eth0", "netns", n2])  # fmt: skip
        for node, other in zip(lab.nodes, reversed(lab.nodes), strict=True):
            node.ip("addr", "add", f"{node.address}/15", "dev", "eth0")
            node.ip("-6", "addr", "add", f"{node.ip6}/64", "dev", "eth0", "nodad")
            node.ip("link", "set", "eth0", "up")
            node.ip("route", "add", "default", "via", other.address, "dev", "eth0")
        yield lab
    finally:
        lab.teardown()
