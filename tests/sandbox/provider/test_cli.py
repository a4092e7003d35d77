"""``cniscrub-lab`` as users run it: up, status --json, exec, reboot, down (issue #2)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.sandbox

NAME = "pt-cli"


def lab(
    *args: str, check: bool = True, home: Path | None = None
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CNISCRUB_LAB_HOME": str(home)} if home else None
    return subprocess.run(
        [sys.executable, "-m", "harness.cli.main", *args],
        capture_output=True, text=True, timeout=120, check=check, env=env,
    )  # fmt: skip


def test_cli_lifecycle() -> None:
    try:
        up = lab("up", "--name", NAME, "--nodes", "2", "--no-control-plane", "--json")
        status = json.loads(up.stdout)
        assert [n["name"] for n in status["nodes"]] == [
            f"{NAME}-control-plane",
            f"{NAME}-worker",
        ]
        assert "ready in" in up.stderr
        again = json.loads(lab("status", "--name", NAME, "--json").stdout)[0]
        assert again["id"] == status["id"] and all(n["running"] for n in again["nodes"])
        out = lab("exec", "--name", NAME, "worker", "--", "hostname")
        assert out.stdout.strip() == f"{NAME}-worker"  # short node names resolve
        failing = lab("exec", "--name", NAME, "worker", "--", "sh", "-c", "echo oops >&2; exit 7",
                      check=False)  # fmt: skip
        assert (failing.returncode, failing.stderr.strip()) == (7, "oops")
        lab("reboot", "--name", NAME, f"{NAME}-worker")
        after = json.loads(lab("status", "--name", NAME, "--json").stdout)[0]
        assert after["nodes"][1]["boot"] == 1
        unknown = lab("exec", "--name", NAME, "nope", "--", "true", check=False)
        assert unknown.returncode == 1 and "no node 'nope'" in unknown.stderr
        taken = lab("up", "--name", NAME, "--no-control-plane", check=False)
        assert taken.returncode == 1 and "already exists" in taken.stderr
    finally:
        lab("down", "--name", NAME)
    assert "nothing to do" in lab("down", "--name", NAME).stderr
    missing = lab("status", "--name", NAME, check=False)
    assert missing.returncode == 1 and "no sandbox cluster named" in missing.stderr


def test_missing_plugins_give_a_clear_message(tmp_path) -> None:  # type: ignore[no-untyped-def]
    env = {**os.environ, "CNISCRUB_LAB_CNI_PLUGINS": str(tmp_path),
           "CNISCRUB_LAB_HOME": str(tmp_path / "home")}  # fmt: skip
    out = subprocess.run(
        [sys.executable, "-m", "harness.cli.main", "up", "--name", "pt-noplug"],
        capture_output=True, text=True, timeout=60, env=env,
    )  # fmt: skip
    assert out.returncode == 1
    assert "apt-get install containernetworking-plugins" in out.stderr
    assert not (tmp_path / "home" / "clusters" / "pt-noplug" / "cluster.json").exists()


def test_full_node_names_find_their_cluster(tmp_path: Path) -> None:
    """issue 10: `up --name barx`, then `exec barx-worker -- hostname` (no --name),
    `reboot barx-worker`, `stop`/`start`, and `exec worker --name barx -- ...`.
    (A state home of its own: no `lab` cluster there, whatever the machine runs.)"""
    name = "pt-barx"

    def run(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return lab(*args, check=check, home=tmp_path / "home")

    try:
        run("up", "--name", name, "--nodes", "2", "--no-control-plane")
        out = run("exec", f"{name}-worker", "--", "hostname")
        assert out.stdout.strip() == f"{name}-worker"
        late = run("exec", "worker", "--name", name, "--", "hostname")
        assert late.stdout.strip() == f"{name}-worker"  # --name after NODE is read
        run("reboot", f"{name}-worker")
        run("stop", f"{name}-worker")
        down = json.loads(run("status", "--name", name, "--json").stdout)[0]
        assert (down["nodes"][1]["running"], down["nodes"][1]["stopped"]) == (
            False,
            True,
        )
        off = run("exec", f"{name}-worker", "--", "true", check=False)
        assert off.returncode == 1 and "powered off" in off.stderr
        run("start", f"{name}-worker")
        up = json.loads(run("status", "--name", name, "--json").stdout)[0]
        assert up["nodes"][1]["running"] and up["nodes"][1]["boot"] == 2
        short = run("exec", "worker", "--", "true", check=False)  # no `lab` cluster
        assert short.returncode == 1 and f"{name}: {name}-control-plane" in short.stderr
    finally:
        run("down", "--name", name)
