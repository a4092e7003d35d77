"""SIGKILL during apply at every action index, then a re-run converges.

``CNISCRUB_DEBUG_KILL_AT=N`` makes apply SIGKILL itself just before backing up action
N. For each N a fresh node is built; after the kill, a second apply must finish with
exit 0, leave zero Flannel residue and every foreign object intact, and replaying both
journals (newest first) must give back the exact original node.
"""

from __future__ import annotations

import json
import signal
from collections.abc import Callable
from pathlib import Path

import csb_residue as residue
import pytest
from csb_nodebuilder import Node
from csb_state import diff, flannel_leftovers, snapshot
from test_cniscrub_sandbox_apply import cli

pytestmark = [pytest.mark.sandbox, pytest.mark.slow, pytest.mark.timeout(600)]

SHAPE = {
    "version": "v0.27",
    "backend": "nft",
    "dual": True,
    "peers": 2,
    "pods": 1,
    "blackhole": True,
}


def _build(
    make_node: Callable[[], Node],
) -> tuple[Node, dict[str, object], dict[str, object]]:
    node = make_node()
    residue.foreign(node, backends=("nft",))
    foreign_only = snapshot(node, pods=False)
    residue.flannel(node, **SHAPE)  # type: ignore[arg-type]
    return node, foreign_only, snapshot(node)


def test_sigkill_at_each_action_then_rerun_converges(
    make_node: Callable[[], Node], tmp_path: Path
) -> None:
    probe, _, _ = _build(make_node)
    plan = json.loads(cli(probe, tmp_path, "plan", "--cni", "flannel", "--json").stdout)
    count = len(plan["actions"])
    probe.destroy()
    assert count >= 15
    for n in range(1, count + 1):
        node, foreign_only, before = _build(make_node)
        work = tmp_path / f"k{n}"
        work.mkdir()
        killed = node.cli(
            "apply",
            "--cni",
            "flannel",
            "--yes",
            "--root",
            str(node.root),
            "--lock-file",
            str(work / "lock"),
            "--journal-dir",
            str(work / "journal"),
            env={"CNISCRUB_DEBUG_KILL_AT": str(n)},
        )
        assert killed.returncode == -signal.SIGKILL, (n, killed.stderr)
        rerun = cli(node, work, "apply", "--cni", "flannel", "--yes", "--json")
        assert rerun.returncode == 0, (n, rerun.stdout, rerun.stderr)
        assert flannel_leftovers(node) == [], n
        assert diff(foreign_only, snapshot(node, pods=False)) == {}, n
        for journal in sorted((work / "journal").iterdir(), reverse=True):
            res = cli(node, work, "restore", str(journal), "--yes")
            assert res.returncode == 0, (n, res.stdout, res.stderr)
        final = snapshot(node)
        assert diff(before, final) == {}, f"restore after kill at {n}"
        node.destroy()
