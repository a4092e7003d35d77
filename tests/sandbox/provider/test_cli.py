"""``cniscrub-lab`` as users run it: up, status --json, exec, reboot, down (issue #2)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

pytestmark = pytest.mark.sandbox

NAME = "pt-cli"


def lab(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "harness.cli.main", *args],
        capture_output=True, text=True, timeout=120, check=check,
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
    import os

    env = {**os.environ, "CNISCRUB_LAB_CNI_PLUGINS": str(tmp_path),
           "CNISCRUB_LAB_HOME": str(tmp_path / "home")}  # fmt: skip
    out = subprocess.run(
        [sys.executable, "-m", "harness.cli.main", "up", "--name", "pt-noplug"],
        capture_output=True, text=True, timeout=60, env=env,
    )  # fmt: skip
    assert out.returncode == 1
    assert "apt-get install containernetworking-plugins" in out.stderr
    assert not (tmp_path / "home" / "clusters" / "pt-noplug" / "cluster.json").exists()
