"""Real-kernel smoke test: the small node, censused after do-nothing and k3s-style."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

from bench.cleaners import census, nodestate
from bench.cleaners.spec import SIZES
from bench.cleaners.worker import REPO, SHIELD, run_in_node

pytestmark = [
    pytest.mark.sandbox,
    pytest.mark.skipif(os.geteuid() != 0, reason="needs root"),
    pytest.mark.skipif(
        not all(shutil.which(t) for t in ("nsenter", "unshare", "ip", "bridge")),
        reason="needs nsenter, unshare, ip and bridge",
    ),
]


def host_links() -> set[str]:
    out = subprocess.run(
        ["ip", "-o", "link", "show"], capture_output=True, text=True, timeout=30
    ).stdout
    return {line.split(":")[1].strip().split("@")[0] for line in out.splitlines()}


def run(cleaner: str) -> tuple[census.Census, nodestate.Node]:
    before = host_links()
    with nodestate.built_node(SIZES["small"]) as node:
        ours = {
            ident[0] for ident in node.spec.flannel["link"] | node.spec.foreign["link"]
        }
        ours -= {"lo", "eth0"}  # names the host has too
        assert not ours & host_links(), "node objects leaked into the host netns"
        result = run_in_node(node.netns, cleaner, node.root, node.journal)
        assert result.ok, result.note
        seen = census.observe(node.netns, node.root)
        c = census.compare(node.spec.flannel, node.spec.foreign, seen)
    assert not ours & host_links()
    assert before <= host_links() | {"lo"}  # the cleaner touched nothing of the host
    return c, node


def test_noop_leaves_everything() -> None:
    c, node = run("noop")
    assert c.left == node.spec.total("flannel") and c.lost == 0
    assert not node.workdir.exists() and node.fd == -1  # torn down


def test_k3s_style_loses_foreign_objects() -> None:
    c, node = run("k3s-style")
    assert c.lost > 0
    assert c.foreign_lost["rule"] > 0  # kube-proxy's KUBE- rules
    kube = [r for r in node.spec.foreign["rule"] if "KUBE-" in r[1]]
    assert c.foreign_lost["rule"] == len(kube)
    # podman's IPAM dir and files under /var/lib/cni, and its result cache
    podman = [f for f in node.spec.foreign["file"] if f[0].startswith("var/lib/cni/")]
    assert c.foreign_lost["file"] == len(podman) > 0
    # what k3s-killall does not touch: /etc/cni, /opt/cni/bin, /run/flannel
    assert c.flannel_left == {k: 4 if k == "file" else 0 for k in c.flannel_left}


def test_worker_shields_host_cni_dirs() -> None:
    """In the worker's private mount ns the host's CNI dirs are an empty tmpfs
    with a sentinel; touching them is reported, the real dirs never change."""
    code = (
        "from bench.cleaners import worker as w\n"
        "s = w.isolate()\n"
        "print(len(s), w.escaped(s))\n"
        "for p in s: p.unlink()\n"  # only the sentinel, only on the tmpfs
        "print(w.escaped(s) == [str(p.parent) for p in s])\n"
    )
    before = {d: sorted(os.listdir(d)) for d in map(str, SHIELD) if os.path.isdir(d)}
    argv = ["unshare", "--mount", "--propagation", "slave", "--"]
    proc = subprocess.run(
        [*argv, sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
        env=dict(os.environ, PYTHONPATH=str(REPO)),
    )
    assert proc.returncode == 0, proc.stderr
    count, clean = proc.stdout.splitlines()[0].split(" ", 1)
    assert int(count) == len(before) and clean == "[]"
    assert proc.stdout.splitlines()[1] == "True"
    after = {d: sorted(os.listdir(d)) for d in map(str, SHIELD) if os.path.isdir(d)}
    assert after == before
