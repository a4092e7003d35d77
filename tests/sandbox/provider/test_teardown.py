"""Nothing is left behind: down, a failing test, a SIGKILLed run + gc (issue #2)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

from harness.providers import make_provider
from harness.providers.base import ClusterSpec
from harness.providers.sandbox.state import ClusterDir
from harness.providers.sandbox.teardown import marked_processes, namespaces_in_use

pytestmark = pytest.mark.sandbox


def _assert_gone(cluster_id: str, namespaces: set[str], state_dir: Path) -> None:
    assert namespaces, "the probe found no namespaces to watch"
    assert [p for p, c in marked_processes().items() if c == cluster_id] == []
    deadline = time.monotonic() + 10
    while namespaces_in_use(namespaces) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert namespaces_in_use(namespaces) == set()
    assert not state_dir.exists()
    mounts = Path("/proc/self/mountinfo").read_text()
    assert str(state_dir) not in mounts


def _probe(cluster) -> tuple[str, set[str], Path]:  # type: ignore[no-untyped-def]
    from tests.sandbox.provider.conftest import cluster_footprint

    fp = cluster_footprint(cluster)
    assert len(fp["pids"]) >= 2 * len(cluster.nodes) + 2  # holders, keepers, fabric
    return cluster.id, fp["namespaces"], cluster.state_dir  # type: ignore[return-value]


def test_down_removes_everything(sandbox_provider: Any) -> None:
    cluster = sandbox_provider.create(
        ClusterSpec(name="pt-down", nodes=3, control_plane=False)
    )
    cluster.nodes[1].exec(["sh", "-c", "sleep 300 &"])
    cluster.nodes[1].exec(
        ["ip", "netns", "add", "cni-pod"]
    )  # a pod netns inside the node
    probe = _probe(cluster)
    sandbox_provider.delete("pt-down")
    assert "pt-down" not in sandbox_provider.list_clusters()
    _assert_gone(*probe)
    sandbox_provider.delete("pt-down")  # idempotent, like rm -f


def test_failed_test_still_tears_down(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        textwrap.dedent(
            """
            import json, os
            def test_boom(cluster):
                out = {"id": cluster.id, "dir": str(cluster.state_dir),
                       "pids": [n.pid for n in cluster.nodes]}
                ns = set()
                for pid in out["pids"]:
                    for kind in ("net", "mnt"):
                        ns.add(os.readlink(f"/proc/{pid}/ns/{kind}"))
                out["ns"] = sorted(ns)
                with open(os.environ["PROBE_OUT"], "w") as fh:
                    json.dump(out, fh)
                raise RuntimeError("mid-way failure")
            """
        )
    )
    probe_out = pytester.path / "probe.json"
    os.environ["PROBE_OUT"] = str(probe_out)
    try:
        result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--nodes", "2")
    finally:
        del os.environ["PROBE_OUT"]
    result.assert_outcomes(failed=1)
    probe = json.loads(probe_out.read_text())
    _assert_gone(probe["id"], set(probe["ns"]), Path(probe["dir"]))


def test_gc_removes_remains_of_a_sigkilled_run(tmp_path: Path) -> None:
    script = textwrap.dedent(
        """
        import os, sys, time
        from harness.providers import make_provider
        from harness.providers.base import ClusterSpec
        c = make_provider("sandbox", lifetime_owner=os.getpid()).create(
            ClusterSpec(name="pt-crash", nodes=2, control_plane=False))
        c.nodes[0].exec(["sh", "-c", "sleep 300 &"])
        print(c.id, flush=True)
        time.sleep(300)
        """
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None
        cluster_id = proc.stdout.readline().strip()
        assert cluster_id, "the crashing run did not start its cluster"
        cluster = make_provider("sandbox").get("pt-crash")
        probe = _probe(cluster)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    # the run is gone but its cluster is not
    assert ClusterDir("pt-crash").exists()
    assert [p for p, c in marked_processes().items() if c == cluster_id]
    out = subprocess.run(
        [sys.executable, "-m", "harness.cli.main", "gc", "--json"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert "pt-crash" in json.loads(out.stdout)["clusters_removed"]
    _assert_gone(*probe)


def test_gc_keeps_a_running_cluster(sandbox_provider: Any) -> None:
    from harness.providers.sandbox import gc

    sandbox_provider.create(ClusterSpec(name="pt-live", nodes=1, control_plane=False))
    try:
        report = gc.collect()
        assert "pt-live" in report.clusters_kept
        assert sandbox_provider.get("pt-live").nodes[0].exec(["true"]).ok
    finally:
        sandbox_provider.delete("pt-live")
