"""Nothing is left behind: down, a failing test, a SIGKILLed run + gc (issue #2).

The namespaces a cluster used are watched through :class:`NamespacePins`: their ids
are reused by the kernel as soon as they are freed, so without a pin another run's new
namespace can show the id of one the test saw die."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from harness.providers import make_provider
from harness.providers.base import ClusterSpec
from harness.providers.sandbox.state import ClusterDir
from harness.providers.sandbox.teardown import (
    NAMESPACE_KINDS,
    marked_processes,
    namespaces_in_use,
)
from tests.sandbox.provider.conftest import NamespacePins, cluster_footprint

pytestmark = pytest.mark.sandbox


def _assert_gone(cluster_id: str, namespaces: set[str], state_dir: Path) -> None:
    """``namespaces`` must be pinned (a held id is then a leak, not a reuse)."""
    assert namespaces, "the probe found no namespaces to watch"
    assert [p for p, c in marked_processes().items() if c == cluster_id] == []
    deadline = time.monotonic() + 10
    while namespaces_in_use(namespaces) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert namespaces_in_use(namespaces) == set(), _holders(namespaces)
    assert _ns_mounts(namespaces) == []
    assert not state_dir.exists()
    mounts = Path("/proc/self/mountinfo").read_text()
    assert str(state_dir) not in mounts


def _holders(namespaces: set[str]) -> list[str]:
    """Who holds them: pid, namespace, command line, ownership marker."""
    found = []
    for entry in os.scandir("/proc"):
        try:
            held = {
                os.readlink(f"{entry.path}/ns/{k}")
                for k in (*NAMESPACE_KINDS, "pid_for_children")
            } & namespaces
            if held:
                cmd = Path(entry.path, "cmdline").read_bytes().replace(b"\0", b" ")
                env = Path(entry.path, "environ").read_bytes().split(b"\0")
                mark = [v for v in env if v.startswith(b"CNISCRUB_LAB_CLUSTER")]
                found.append(f"{entry.name} {sorted(held)} {cmd[:120]!r} {mark}")
        except OSError:
            continue
    return found


def _ns_mounts(namespaces: set[str]) -> list[str]:
    """Bind mounts of the namespaces in this mount namespace (``ip netns add``)."""
    lines = Path("/proc/self/mountinfo").read_text().splitlines()
    return [line for line in lines if line.split()[3] in namespaces]


def _probe(cluster, pins: NamespacePins) -> tuple[str, set[str], Path]:  # type: ignore[no-untyped-def]
    fp = cluster_footprint(cluster)
    assert len(fp["pids"]) >= 2 * len(cluster.nodes) + 2  # holders, keepers, fabric
    namespaces = pins.pin(fp["pids"])  # type: ignore[arg-type]
    assert namespaces == fp["namespaces"]
    return cluster.id, namespaces, cluster.state_dir


def test_down_removes_everything(sandbox_provider: Any, ns_pins: NamespacePins) -> None:
    cluster = sandbox_provider.create(
        ClusterSpec(name="pt-down", nodes=3, control_plane=False)
    )
    cluster.nodes[1].exec(["sh", "-c", "sleep 300 &"])
    cluster.nodes[1].exec(
        ["ip", "netns", "add", "cni-pod"]
    )  # a pod netns inside the node
    probe = _probe(cluster, ns_pins)
    sandbox_provider.delete("pt-down")
    assert "pt-down" not in sandbox_provider.list_clusters()
    _assert_gone(*probe)
    sandbox_provider.delete("pt-down")  # idempotent, like rm -f


def test_failed_test_still_tears_down(
    pytester: pytest.Pytester, ns_pins: NamespacePins
) -> None:
    pytester.makepyfile(
        textwrap.dedent(
            """
            import json, os, time
            def test_boom(cluster):
                out = {"id": cluster.id, "dir": str(cluster.state_dir),
                       "pids": [n.pid for n in cluster.nodes]}
                probe = os.environ["PROBE_OUT"]
                with open(probe + ".tmp", "w") as fh:
                    json.dump(out, fh)
                os.rename(probe + ".tmp", probe)
                deadline = time.monotonic() + 60  # until the parent pinned them
                while not os.path.exists(probe + ".pinned"):
                    assert time.monotonic() < deadline, "namespaces never pinned"
                    time.sleep(0.02)
                raise RuntimeError("mid-way failure")
            """
        )
    )
    probe_out = pytester.path / "probe.json"
    pinned: dict[str, Any] = {}

    def pin_when_probed() -> None:
        deadline = time.monotonic() + 120
        while not probe_out.exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        if probe_out.exists():
            pinned.update(json.loads(probe_out.read_text()))
            pinned["ns"] = ns_pins.pin(pinned["pids"])
            Path(f"{probe_out}.pinned").touch()

    pinner = threading.Thread(target=pin_when_probed, daemon=True)
    pinner.start()
    os.environ["PROBE_OUT"] = str(probe_out)
    try:
        result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--nodes", "2")
    finally:
        del os.environ["PROBE_OUT"]
    pinner.join(timeout=5)
    result.assert_outcomes(failed=1)
    _assert_gone(pinned["id"], pinned["ns"], Path(pinned["dir"]))


def test_gc_removes_remains_of_a_sigkilled_run(
    tmp_path: Path, ns_pins: NamespacePins
) -> None:
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
        probe = _probe(cluster, ns_pins)
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
