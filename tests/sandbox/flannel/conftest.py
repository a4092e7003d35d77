"""Fixtures of the Flannel emulation's real-kernel tests (see :mod:`flannel_lab`)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from flannel_lab import PLUGINS, Lab, Node, lab_mounts, netns_names, next_prefix, sh


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[Lab]:
    if os.geteuid() != 0 or shutil.which("ip") is None or not PLUGINS.is_dir():
        pytest.skip("needs root, iproute2 and the CNI plugins in /usr/lib/cni")
    prefix = next_prefix()
    before_ns = netns_names()
    before_mounts = len(sh(["findmnt", "-rn"]).stdout.splitlines())
    lab = Lab(prefix, tmp_path)
    try:
        n1, n2 = lab.add_netns("node1"), lab.add_netns("node2")
        sh(
            [
                "ip",
                "-n",
                n1,
                "link",
                "add",
                "eth0",
                "type",
                "veth",
                "peer",
                "name",
                "eth0",
                "netns",
                n2,
            ]
        )
        for i, ns in enumerate((n1, n2), start=1):
            ip, ip6 = f"198.18.0.{i}", f"fd00:198:18::{i}"
            sh(["ip", "-n", ns, "addr", "add", f"{ip}/15", "dev", "eth0"])
            sh(
                [
                    "ip",
                    "-n",
                    ns,
                    "-6",
                    "addr",
                    "add",
                    f"{ip6}/64",
                    "dev",
                    "eth0",
                    "nodad",
                ]
            )
            sh(["ip", "-n", ns, "link", "set", "eth0", "up"])
            other = f"198.18.0.{3 - i}"
            sh(["ip", "-n", ns, "route", "add", "default", "via", other, "dev", "eth0"])
            root = tmp_path / f"node{i}"
            root.mkdir()
            lab.nodes.append(
                Node(
                    f"node{i}",
                    ns,
                    root,
                    ip,
                    ip6,
                    f"10.244.{i}.0/24",
                    f"fd00:10:244:{i}::/64",
                )
            )
        yield lab
    finally:
        lab.teardown()
        after_ns = netns_names()
        assert not [n for n in after_ns if n.startswith(prefix + "-")], "netns left"
        assert not lab_mounts(str(tmp_path)), "lab mounts left behind"
        # global counts: informative only (other engineers work concurrently)
        if (
            after_ns != before_ns
            or len(sh(["findmnt", "-rn"]).stdout.splitlines()) != before_mounts
        ):
            print(f"note: host netns/mounts changed during {prefix} (concurrent work?)")
