"""A second footprint plugs in through ``cniscrub.footprints`` alone: the test's "toy"
CNI (toy_footprint.py, registered by the test, never shipped) goes through plan, apply,
verify and restore on a node that also holds Flannel residue and foreign state --
only toy's objects go, and restore puts exactly them back.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import csb_residue as residue
import pytest
import toy_footprint
from csb_nodebuilder import Node
from csb_state import diff, snapshot

pytestmark = [pytest.mark.sandbox, pytest.mark.timeout(240)]
REPO = Path(__file__).resolve().parents[3]


def toy_cli(node: Node, tmp: Path, *args: str) -> Any:
    """The cniscrub CLI with the toy footprint registered, inside the node."""
    extra = ["--root", str(node.root)]
    if args[0] in ("apply", "restore"):
        extra += ["--lock-file", str(tmp / "lock")]
    if args[0] == "apply":
        extra += ["--journal-dir", str(tmp / "journal")]
    argv = [sys.executable, toy_footprint.__file__, *args, *extra]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run(
        ["ip", "netns", "exec", node.name, *argv],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def test_toy_footprint_plan_apply_verify_restore(node: Node, tmp_path: Path) -> None:
    residue.foreign(node)
    residue.flannel(node)  # another CNI's residue: not toy's, must stay
    others = snapshot(node)
    toy_footprint.residue(node)
    before = snapshot(node)

    planned = toy_cli(node, tmp_path, "plan", "--cni", "toy", "--json")
    assert planned.returncode == 2, planned.stderr
    plan = json.loads(planned.stdout)
    kinds = {a["kind"] for a in plan["actions"]}
    assert kinds == {"ipt_rule", "ipt_chain", "nft_table", "route", "link", "file"}
    assert not [a for a in plan["actions"] if "flannel" in a["target"].lower()]
    assert plan["allowed_dirs"] == list(toy_footprint.DIRS)

    applied = toy_cli(node, tmp_path, "apply", "--cni", "toy", "--yes", "--json")
    assert applied.returncode == 0, applied.stdout + applied.stderr
    report = json.loads(applied.stdout)
    assert {r["status"] for r in report["results"]} == {"applied"}
    assert report["verify"]["clean"] is True
    assert diff(others, snapshot(node)) == {}, "only toy's objects may go"

    verified = toy_cli(node, tmp_path, "verify", "--cni", "toy", "--json")
    assert verified.returncode == 0 and json.loads(verified.stdout)["clean"] is True
    restored = toy_cli(node, tmp_path, "restore", report["journal"], "--yes", "--json")
    assert restored.returncode == 0, restored.stdout + restored.stderr
    assert diff(before, snapshot(node)) == {}, "restore is not exact"


def test_toy_agent_blocks_and_unregistered_cni_is_a_usage_error(
    node: Node, tmp_path: Path
) -> None:
    """The agent name comes from the spec; the shipped CLI does not know toy."""
    toy_footprint.residue(node)
    agent = tmp_path / "toyd"
    agent.symlink_to("/bin/sleep")
    proc = subprocess.Popen(["ip", "netns", "exec", node.name, str(agent), "60"])
    try:
        for _ in range(100):
            comm = Path(f"/proc/{proc.pid}/comm")
            if comm.exists() and comm.read_text().strip() == "toyd":
                break
            subprocess.run(["sleep", "0.05"], check=False)
        out = toy_cli(node, tmp_path, "apply", "--cni", "toy", "--yes")
        assert out.returncode == 6 and "toyd is running" in out.stderr
    finally:
        proc.kill()
        proc.wait(timeout=10)
    shipped = node.cli("plan", "--cni", "toy", "--root", str(node.root))
    assert shipped.returncode == 4 and "invalid choice: 'toy'" in shipped.stderr
