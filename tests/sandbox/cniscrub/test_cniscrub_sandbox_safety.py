"""Real-kernel safety tests: refusals (flanneld running, lock held, no TTY), stale
plans, and bad input that must give a clear message and never widen what is deleted.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import csb_residue as residue
import pytest
from csb_nodebuilder import Node, copy_flanneld_binary
from csb_state import diff, flannel_leftovers, snapshot
from test_cniscrub_sandbox_apply import cli

pytestmark = [pytest.mark.sandbox, pytest.mark.timeout(240)]


def _wait_comm(pid: int, comm: str, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if Path(f"/proc/{pid}/comm").read_text().strip() == comm:
                return
        except OSError:
            pass
        time.sleep(0.05)
    raise AssertionError(f"pid {pid} never showed comm {comm}")


def test_refuses_while_flanneld_runs_then_force(node: Node, tmp_path: Path) -> None:
    residue.flannel(node)
    binary = copy_flanneld_binary(tmp_path)
    proc = subprocess.Popen(["ip", "netns", "exec", node.name, str(binary), "120"])
    try:
        _wait_comm(proc.pid, "flanneld")
        out = cli(node, tmp_path, "apply", "--cni", "flannel", "--yes")
        assert out.returncode == 6
        assert "flanneld is running" in out.stderr
        assert flannel_leftovers(node) != []  # nothing was touched
        forced = cli(node, tmp_path, "apply", "--cni", "flannel", "--yes", "--force")
        assert forced.returncode == 0, forced.stderr
    finally:
        proc.kill()
        proc.wait(timeout=10)


def test_flanneld_of_another_netns_does_not_block(node: Node, tmp_path: Path) -> None:
    residue.flannel(node)
    binary = copy_flanneld_binary(tmp_path)
    proc = subprocess.Popen([str(binary), "120"])  # the host's netns, not the node's
    try:
        _wait_comm(proc.pid, "flanneld")
        assert cli(node, tmp_path, "apply", "--cni", "flannel", "--yes").returncode == 0
    finally:
        proc.kill()
        proc.wait(timeout=10)


def test_refuses_when_lock_held(node: Node, tmp_path: Path) -> None:
    residue.flannel(node)
    fd = os.open(tmp_path / "lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        out = cli(node, tmp_path, "apply", "--cni", "flannel", "--yes")
        assert out.returncode == 6
        assert "holds the lock" in out.stderr
    finally:
        os.close(fd)
    assert cli(node, tmp_path, "apply", "--cni", "flannel", "--yes").returncode == 0


def test_refuses_without_yes_and_tty(node: Node, tmp_path: Path) -> None:
    residue.flannel(node)
    out = cli(node, tmp_path, "apply", "--cni", "flannel")
    assert out.returncode == 6 and "--yes" in out.stderr
    assert flannel_leftovers(node) != []


def test_saved_plan_applies_or_is_stale(node: Node, tmp_path: Path) -> None:
    residue.flannel(node)
    plan = tmp_path / "plan.json"
    assert (
        cli(node, tmp_path, "plan", "--cni", "flannel", "--out", str(plan)).returncode
        == 2
    )
    node.ip(
        "route",
        "add",
        "10.244.99.0/24",
        "via",
        "10.244.99.0",
        "dev",
        "flannel.1",
        "onlink",
    )
    stale = cli(node, tmp_path, "apply", str(plan), "--yes")
    assert stale.returncode == 5 and "stale" in stale.stderr
    assert (
        cli(node, tmp_path, "plan", "--cni", "flannel", "--out", str(plan)).returncode
        == 2
    )
    # no --root: the saved plan remembers the root it was made with
    applied = node.cli(
        "apply",
        str(plan),
        "--yes",
        "--lock-file",
        str(tmp_path / "l"),
        "--journal-dir",
        str(tmp_path / "j"),
    )
    assert applied.returncode == 0, applied.stderr
    assert flannel_leftovers(node) == []


def _apply_and_keep_foreign(node: Node, tmp_path: Path, setup: object) -> str:
    residue.foreign(node)
    residue.flannel(node)
    assert callable(setup)
    setup()
    foreign_before = snapshot(node, pods=False)
    plan = cli(node, tmp_path, "plan", "--cni", "flannel")
    assert plan.returncode == 2, plan.stderr
    out = cli(node, tmp_path, "apply", "--cni", "flannel", "--yes")
    assert out.returncode in (0, 3), out.stderr
    after = snapshot(node, pods=False)
    changed = diff(foreign_before, after)
    for kind in ("iptables", "nft"):
        assert "flannel" not in repr(changed.get(kind, ([], []))[1]).lower()
    assert "br-user" in repr(after["links"]) and "vxlan100" in repr(after["links"])
    for f in foreign_before["files"]:
        if "podman" in f["path"] or f["path"].startswith("opt/cni/bin/b"):
            assert f in after["files"]
    return plan.stdout


def test_malformed_conflist(node: Node, tmp_path: Path) -> None:
    def setup() -> None:
        node.write("/etc/cni/net.d/10-flannel.conflist", "{ not json")

    text = _apply_and_keep_foreign(node, tmp_path, setup)
    assert "10-flannel.conflist is not usable" in text


def test_binary_and_huge_subnet_env(node: Node, tmp_path: Path) -> None:
    def setup() -> None:
        node.write("/run/flannel/subnet.env", b"\x00\xff" * 10)
        node.write("/var/lib/cni/results/cbr0-huge-eth0", b"x" * (2 << 20))

    text = _apply_and_keep_foreign(node, tmp_path, setup)
    assert "subnet.env not usable: binary" in text
    assert "too large" in text


def test_non_utf8_name_is_left_alone(node: Node, tmp_path: Path) -> None:
    weird = os.path.join(os.fsencode(node.root), b"var/lib/cni/networks/cbr0/\xff\xfe")

    def setup() -> None:
        Path(os.fsdecode(weird)).write_text("x")

    text = _apply_and_keep_foreign(node, tmp_path, setup)
    assert "not UTF-8" in text
    assert os.path.exists(weird)


def test_symlink_out_of_root_is_never_followed(node: Node, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "precious").write_text("keep me")

    def setup() -> None:
        shutil.rmtree(node.root / "var/lib/cni/networks/cbr0")
        (node.root / "var/lib/cni/networks/cbr0").symlink_to(outside)
        (node.root / "etc/cni/net.d/10-flannel.conflist").unlink()
        (node.root / "etc/cni/net.d/10-flannel.conflist").symlink_to(
            outside / "precious"
        )

    text = _apply_and_keep_foreign(node, tmp_path, setup)
    assert "symlink" in text
    assert (outside / "precious").read_text() == "keep me"
    assert not (node.root / "etc/cni/net.d/10-flannel.conflist").is_symlink()


def test_missing_iptables_legacy(node: Node, tmp_path: Path) -> None:
    residue.foreign(node, backends=("nft", "legacy"))
    residue.flannel(node, backend="nft")
    legacy_before = {
        k: v for k, v in snapshot(node)["iptables"].items() if "legacy" in k
    }
    bindir = tmp_path / "bin"
    bindir.mkdir()
    for tool in (
        "ip",
        "nft",
        "nsenter",
        "iptables-nft-save",
        "iptables-nft-restore",
        "ip6tables-nft-save",
        "ip6tables-nft-restore",
    ):
        found = shutil.which(tool)
        assert found
        (bindir / tool).symlink_to(found)
    env = {"PATH": str(bindir)}
    out = node.cli("plan", "--cni", "flannel", "--root", str(node.root), env=env)
    assert out.returncode == 2
    assert "legacy backend (IPv4) not inspected" in out.stdout
    applied = node.cli(
        "apply",
        "--cni",
        "flannel",
        "--root",
        str(node.root),
        "--yes",
        "--lock-file",
        str(tmp_path / "lock"),
        "--journal-dir",
        str(tmp_path / "j"),
        "--json",
        env=env,
    )
    assert applied.returncode == 0, applied.stderr
    assert json.loads(applied.stdout)["verify"]["clean"]
    legacy_after = {
        k: v for k, v in snapshot(node)["iptables"].items() if "legacy" in k
    }
    assert legacy_after == legacy_before


def test_independent_failure_gives_partial_then_rerun_converges(
    node: Node, tmp_path: Path
) -> None:
    residue.foreign(node)
    residue.flannel(node, backend="nft")
    bindir = tmp_path / "bin"
    bindir.mkdir()
    broken = bindir / "iptables-nft-restore"  # every IPv4 transaction fails
    broken.write_text("#!/bin/sh\necho 'simulated xtables failure' >&2\nexit 4\n")
    broken.chmod(0o755)
    env = {"PATH": f"{bindir}:/usr/sbin:/usr/bin:/sbin:/bin"}
    out = node.cli(
        "apply",
        "--cni",
        "flannel",
        "--root",
        str(node.root),
        "--yes",
        "--json",
        "--lock-file",
        str(tmp_path / "lock"),
        "--journal-dir",
        str(tmp_path / "j"),
        env=env,
    )
    assert out.returncode == 3, out.stderr
    results = json.loads(out.stdout)["results"]
    failed = [r for r in results if r["status"] == "failed"]
    assert failed and all("simulated xtables failure" in r["error"] for r in failed)
    assert all("nft backend, IPv4" in r["target"] for r in failed)
    assert any(r["status"] == "applied" and "flannel.1" in r["target"] for r in results)
    left = flannel_leftovers(node)
    assert left and all(x.startswith("nft4") for x in left)
    assert cli(node, tmp_path, "verify", "--cni", "flannel").returncode == 2
    assert cli(node, tmp_path, "apply", "--cni", "flannel", "--yes").returncode == 0
    assert flannel_leftovers(node) == []


def test_default_journal_dir_is_under_root(node: Node, tmp_path: Path) -> None:
    residue.flannel(node, pods=1)
    out = node.cli(
        "apply",
        "--cni",
        "flannel",
        "--yes",
        "--json",
        "--root",
        str(node.root),
        "--lock-file",
        str(tmp_path / "lock"),
    )
    assert out.returncode == 0, out.stderr
    journal = Path(json.loads(out.stdout)["journal"])
    assert journal.parent == node.root / "var/lib/cniscrub/journal"
    assert (journal / "journal.jsonl").is_file() and (journal / "plan.json").is_file()
