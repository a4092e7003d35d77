"""``gc`` works on its own state root only: two labs (two ``$CNISCRUB_LAB_HOME``) on one
machine, e.g. two users, two CI jobs or two pytest runs, never collect each other's
clusters or processes; each still removes its own strays."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.providers import make_provider
from harness.providers.base import ClusterSpec
from harness.providers.sandbox.holders import marker_env
from harness.providers.sandbox.state import (
    HOME_ENV,
    MARKER_ENV,
    MARKER_HOME_ENV,
    ClusterDir,
    ProcRef,
)
from harness.providers.sandbox.teardown import marked_processes

pytestmark = pytest.mark.sandbox


def _gc(home: Path) -> dict[str, list]:
    """``cniscrub-lab gc --json`` as a user of that home runs it."""
    out = subprocess.run(
        [sys.executable, "-m", "harness.cli.main", "gc", "--json"],
        env={**os.environ, HOME_ENV: str(home)},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(out.stdout)  # type: ignore[no-any-return]


@pytest.fixture
def spawn() -> Iterator[object]:
    """Start ``sleep`` with a given environment; kill whatever is left at the end."""
    started: list[subprocess.Popen[bytes]] = []

    def run(env: dict[str, str]) -> subprocess.Popen[bytes]:
        proc = subprocess.Popen(["sleep", "300"], env=env, start_new_session=True)
        started.append(proc)
        return proc

    yield run
    for proc in started:
        proc.kill()
        proc.wait(timeout=10)


def _stray(spawn, home: Path) -> subprocess.Popen[bytes]:  # type: ignore[no-untyped-def]
    """A process marked with ``home`` whose cluster has no record there (its run
    crashed while the record was removed)."""
    return spawn(marker_env(uuid.uuid4().hex, home))  # type: ignore[no-any-return]


def test_gc_leaves_another_homes_live_cluster_and_strays(tmp_path: Path, spawn) -> None:  # type: ignore[no-untyped-def]
    home_a, home_b = tmp_path / "lab-a", tmp_path / "lab-b"
    lab_a = make_provider("sandbox", home=home_a, lifetime_owner=os.getpid())
    cluster = lab_a.create(ClusterSpec(name="gc-a", nodes=1, control_plane=False))
    try:
        cluster.nodes[0].exec(["sh", "-c", "sleep 300 &"])
        a_procs = [
            ProcRef.of(pid)
            for pid, cid in marked_processes().items()
            if cid == cluster.id
        ]
        assert len(a_procs) >= 5  # holder, keeper, fabric + keeper, the sleep
        stray_a, stray_b = _stray(spawn, home_a), _stray(spawn, home_b)

        report = _gc(home_b)
        assert stray_b.wait(timeout=10) == -9  # its own stray goes
        assert [p.pid for p in a_procs if not p.alive()] == [], "killed home a's"
        assert stray_a.poll() is None, "gc killed a stray of another home"
        assert set(report["processes_killed"]) == {stray_b.pid}
        assert cluster.nodes[0].exec(["true"]).ok

        report = _gc(home_a)  # the other home collects its own stray, keeps its cluster
        assert report["clusters_kept"] == ["gc-a"]
        assert stray_a.wait(timeout=10) == -9
        assert [p.pid for p in a_procs if not p.alive()] == []
    finally:
        lab_a.delete("gc-a")


def test_gc_leaves_processes_without_a_home_mark_alone(tmp_path: Path, spawn) -> None:  # type: ignore[no-untyped-def]
    """A process marked before homes were marked cannot be proved any home's own."""
    env = {**marker_env(uuid.uuid4().hex, tmp_path), "PATH": os.environ["PATH"]}
    env = {k: v for k, v in env.items() if k != MARKER_HOME_ENV}
    assert MARKER_ENV in env
    old = spawn(env)
    assert _gc(tmp_path)["processes_killed"] == []
    assert old.poll() is None


def test_gc_leaves_a_cluster_whose_lock_is_held(tmp_path: Path) -> None:
    """A crashed-looking cluster whose lock is held is being worked on (``up`` before
    its processes are recorded, ``down``, a reboot): gc leaves it; once free, removes it."""
    owner = subprocess.Popen(["sleep", "300"])
    lab = make_provider("sandbox", home=tmp_path, lifetime_owner=owner.pid)
    lab.create(ClusterSpec(name="gc-busy", nodes=1, control_plane=False))
    try:
        owner.kill()
        owner.wait(timeout=10)  # its run is gone: crashed
        with ClusterDir("gc-busy", tmp_path).locked():
            assert _gc(tmp_path)["clusters_kept"] == ["gc-busy"]
        assert _gc(tmp_path)["clusters_removed"] == ["gc-busy"]
    finally:
        lab.delete("gc-busy")
