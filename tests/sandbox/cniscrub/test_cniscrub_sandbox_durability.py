"""Backup durability and bounded resources (issue 13, classes 1 and 6) on real nodes.

The journal directory is a small tmpfs in a mount namespace the test creates (a holder
process keeps it; nothing is mounted in the host's namespace). Filled at several points
of an apply -- before plan.json is complete, within the first backups, with a blob half
written, near the end -- apply must stop cleanly (exit 1 when nothing was touched, 3
when some was; a message, never a traceback), and restoring that journal must bring the
node back to its original state: no object is removed before its backup is on disk.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import csb_residue as residue
import pytest
from csb_nodebuilder import PY, Node
from csb_state import diff, flannel_leftovers, snapshot

pytestmark = [pytest.mark.sandbox, pytest.mark.timeout(300)]
REPO = Path(__file__).resolve().parents[3]
PAGE = 4096


@contextmanager
def small_fs(where: Path, size: int) -> Iterator[int]:
    """A ``size``-byte tmpfs on ``where`` in a private mount namespace; yields the pid
    of the process holding it (enter with ``nsenter -t PID -m``)."""
    where.mkdir(parents=True, exist_ok=True)
    script = f"mount -t tmpfs -o size={size} cniscrub-test {where} && echo ready && exec sleep 600"
    holder = subprocess.Popen(
        ["unshare", "--mount", "--propagation", "private", "--", "sh", "-c", script],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
        yield holder.pid
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=30)


def cli_in(holder: int, node: Node, *args: str) -> Any:
    """The shipped CLI inside the node's netns and the holder's mount namespace."""
    argv = ["nsenter", "-t", str(holder), "-m", "--", "ip", "netns", "exec", node.name]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [*argv, PY, "-m", "cniscrub", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def _build(node: Node) -> None:
    residue.foreign(node)
    residue.flannel(node, peers=6, pods=6, dual=True, blackhole=True)
    big = {"kind": "cniCacheV1", "containerId": "b" * 64, "pad": "x" * 200_000}
    node.write(f"/var/lib/cni/results/cbr0-{'b' * 64}-eth0", json.dumps(big))  # a blob


def _pages(path: Path) -> int:
    return sum(-(-f.stat().st_size // PAGE) for f in path.rglob("*") if f.is_file())


def test_a_full_journal_filesystem_stops_apply_and_loses_nothing(
    node: Node, tmp_path: Path
) -> None:
    _build(node)
    original = snapshot(node)
    root, lock = ["--root", str(node.root)], ["--lock-file", str(tmp_path / "lock")]
    probe = node.cli(
        "plan", "--cni", "flannel", *root, "--out", str(tmp_path / "p.json")
    )
    assert probe.returncode == 2, probe.stderr
    plan_pages = -(
        -len(json.dumps(json.loads((tmp_path / "p.json").read_text()))) // PAGE
    )
    journal_pages = 0
    with small_fs(tmp_path / "roomy", 64 << 20) as holder:  # how big a whole journal is
        whole = cli_in(holder, node, "apply", "--cni", "flannel", "--yes", *root, *lock,
                       "--journal-dir", str(tmp_path / "roomy"), "--json")  # fmt: skip
        assert whole.returncode == 0, whole.stderr
        journal = json.loads(whole.stdout)["journal"]
        journal_pages = int(subprocess.run(
            ["nsenter", "-t", str(holder), "-m", "--", sys.executable, "-c",
             f"import pathlib,sys; sys.path.insert(0, {str(Path(__file__).parent)!r});"
             f"from test_cniscrub_sandbox_durability import _pages;"
             f"print(_pages(pathlib.Path({journal!r})))"],
            capture_output=True, text=True, check=True, timeout=60).stdout)  # fmt: skip
        back = cli_in(holder, node, "restore", journal, "--yes", *root, *lock)
        assert back.returncode == 0, back.stdout + back.stderr
    assert diff(original, snapshot(node)) == {}
    sizes = {  # where the filesystem runs full
        "plan.json": plan_pages - 1,
        "first backups": plan_pages + 1,
        "blob or middle": (plan_pages + journal_pages) // 2,
        "near the end": journal_pages - 2,
    }
    seen_codes = set()
    for point, pages in sizes.items():
        jdir = tmp_path / point.replace(" ", "-")
        with small_fs(jdir, max(pages, 1) * PAGE) as holder:
            out = cli_in(holder, node, "apply", "--cni", "flannel", "--yes", *root, *lock,
                         "--journal-dir", str(jdir), "--json")  # fmt: skip
            assert out.returncode in (1, 3), (point, out.returncode, out.stderr)
            assert "Traceback" not in out.stderr and "No space left" in out.stderr, (
                point
            )
            seen_codes.add(out.returncode)
            doc = json.loads(out.stdout)
            if doc["schema"] == "cniscrub/apply/v1":
                assert doc["stopped"] and doc["exit_code"] == out.returncode
                statuses = {r["status"] for r in doc["results"]}
                assert statuses <= {"applied", "skipped"}, (point, statuses)
                back = cli_in(
                    holder, node, "restore", doc["journal"], "--yes", *root, *lock
                )
                assert back.returncode == 0, (point, back.stdout, back.stderr)
            else:  # the journal could not even be created: nothing was touched
                assert doc["phase"] == "journal" and out.returncode == 1
        assert diff(original, snapshot(node)) == {}, (
            f"objects lost when full at {point}"
        )
    assert seen_codes == {1, 3}
    assert flannel_leftovers(node) != []  # the original residue, all of it back


def test_a_huge_sparse_file_is_refused_with_bounded_memory(
    node: Node, tmp_path: Path
) -> None:
    """A 2 GiB sparse file in Flannel's IPAM dir: apply refuses to back it up (so
    leaves it and its directory), keeps its journal small and its memory bounded."""
    residue.foreign(node)
    residue.flannel(node)
    huge = node.root / "var/lib/cni/networks/cbr0/10.244.1.250"
    with open(huge, "wb") as fh:
        fh.truncate(2 << 30)
    argv = [PY, "-c", "import resource, subprocess, sys; r = subprocess.run(sys.argv[1:]); "
            "print('maxrss', resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, "
            "file=sys.stderr); sys.exit(r.returncode)"]  # fmt: skip
    cli = ["ip", "netns", "exec", node.name, PY, "-m", "cniscrub", "apply", "--cni",
           "flannel", "--yes", "--json", "--root", str(node.root), "--lock-file",
           str(tmp_path / "lock"), "--journal-dir", str(tmp_path / "j")]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    out = subprocess.run([*argv, *cli], capture_output=True, text=True, env=env,
                         timeout=300, check=False)  # fmt: skip
    assert out.returncode == 3, out.stderr
    doc = json.loads(out.stdout)
    failed = {
        r["target"]: r["error"] for r in doc["results"] if r["status"] == "failed"
    }
    assert (
        "over the backup cap"
        in failed[f"file {huge.relative_to(node.root).as_posix().join(['/', ''])}"]
    )
    assert huge.exists() and huge.stat().st_size == 2 << 30
    journal = Path(doc["journal"])
    assert sum(f.stat().st_size for f in journal.rglob("*") if f.is_file()) < 1 << 20
    maxrss_kib = int(out.stderr.rsplit("maxrss", 1)[1].split()[0])
    assert maxrss_kib < 300 * 1024, f"apply used {maxrss_kib} KiB"
