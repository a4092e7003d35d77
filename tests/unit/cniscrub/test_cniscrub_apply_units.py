"""Apply-layer units: restore transactions, batching, journal, lock, and a full
file-only apply + restore round trip on a temp root (no netlink involved)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from fake_runner import FakeRunner

from cniscrub import footprints
from cniscrub.apply.executor import Executor, batches
from cniscrub.apply.lock import CleanerLock, LockHeldError
from cniscrub.apply.netfilter import transaction
from cniscrub.apply.restore import restore_journal
from cniscrub.inventory import files
from cniscrub.inventory.model import Inventory
from cniscrub.journal.reader import read_journal
from cniscrub.journal.writer import Journal
from cniscrub.node.rootfs import RootFS
from cniscrub.plan.planner import Policy, build_plan

FLANNEL_PLACES = footprints.get("flannel").scope.file_places


def test_transaction_only_deletes() -> None:
    # fact: cleanup-anchors.md §1 (k3s full-table rewrite races other writers): we only
    # emit -D/-F/-X, never a table dump
    text = transaction(
        "filter",
        ['-A FORWARD -m comment --comment "flanneld forward" -j FLANNEL-FWD'],
        ["FLANNEL-FWD"],
    )
    body = text.splitlines()[1:-1]
    assert text.startswith("*filter\n") and text.endswith("COMMIT\n")
    assert all(line.split()[0] in ("-D", "-F", "-X") for line in body)


def _root(tmp: Path) -> Path:
    root = tmp / "root"
    spec = {
        "etc/cni/net.d/10-flannel.conflist": json.dumps(
            {"name": "cbr0", "plugins": [{"type": "flannel"}]}
        ),
        "etc/cni/net.d/87-podman-bridge.conflist": '{"name":"podman","plugins":[]}',
        "run/flannel/subnet.env": "FLANNEL_NETWORK=10.244.0.0/16\n"
        "FLANNEL_SUBNET=10.244.1.1/24\n",
        "var/lib/cni/networks/cbr0/10.244.1.2": "cid\r\neth0",
        "var/lib/cni/networks/podman/198.19.88.5": "x",
        "opt/cni/bin/flannel": "ELF",
    }
    for rel, data in spec.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(data)
    (root / "opt/cni/bin/flannel").chmod(0o755)
    (root / "run/flannel/wgkey").symlink_to("/etc/hostname")
    return root


def _snapshot(root: Path) -> list[tuple[str, int, str]]:
    out = []
    for dirpath, dirs, names in os.walk(root):
        for n in dirs + names:
            p = Path(dirpath) / n
            body = (
                os.readlink(p)
                if p.is_symlink()
                else (p.read_text() if p.is_file() else "")
            )
            out.append((str(p.relative_to(root)), p.lstat().st_mode, body))
    return sorted(out)


def test_file_apply_then_restore_round_trip(tmp_path: Path) -> None:
    root = _root(tmp_path)
    before = _snapshot(root)
    fs = RootFS(str(root))
    entries, notes = files.collect(fs, FLANNEL_PLACES)
    inv = Inventory(notes=notes)
    inv.add(files.parse(entries))
    plan = build_plan(inv, Policy("flannel"))
    assert [a.phase for a in plan.actions] == ["files"] * len(plan.actions)
    assert plan.actions[0].key == "/etc/cni/net.d/10-flannel.conflist"  # conf first
    journal = Journal.create(str(tmp_path / "j"), plan.plan_id, plan.to_json())
    results = Executor(fs, FakeRunner(), journal, plan).run()
    assert {r.status for r in results} == {"applied"}
    after = {p for p, _, _ in _snapshot(root)}
    assert "etc/cni/net.d/87-podman-bridge.conflist" in after
    assert "var/lib/cni/networks/podman/198.19.88.5" in after
    assert not any("flannel" in p or "cbr0" in p for p in after)
    restored = restore_journal(read_journal(journal.path), fs, FakeRunner())
    assert {r.status for r in restored.results} == {"restored"} and restored.ok
    assert _snapshot(root) == before
    again = restore_journal(read_journal(journal.path), fs, FakeRunner())
    assert {r.status for r in again.results} == {"noop"}


def test_batches_group_one_transaction_per_table_and_backend() -> None:
    from cniscrub.plan.model import Action

    def rule(i: int, backend: str, table: str) -> Action:
        data = {"resource": {"data": {"backend": backend, "family": 4, "table": table}}}
        return Action(i, "netfilter", "ipt_rule", f"k{i}", "t", "r", ("e",), "b", data)

    acts = [
        rule(1, "nft", "nat"),
        rule(2, "nft", "nat"),
        rule(3, "legacy", "nat"),
        rule(4, "nft", "filter"),
    ]
    assert [[a.id for a in g] for g in batches(acts)] == [[1, 2], [3], [4]]


def test_journal_ignores_a_torn_last_line(tmp_path: Path) -> None:
    j = Journal.create(str(tmp_path), "abc", {"actions": []})
    j.record({"event": "backup", "action": {"id": 1}})
    with open(os.path.join(j.path, "journal.jsonl"), "a") as fh:
        fh.write('{"event": "res')
    view = read_journal(j.path)
    assert [e["event"] for _, e in view.events] == ["backup"]
    assert view.problems == [] and "line 3 is torn" in view.notes[0]
    assert json.loads(Path(j.path, "plan.json").read_text()) == {"actions": []}


def test_lock_is_exclusive(tmp_path: Path) -> None:
    path = str(tmp_path / "lock")
    with CleanerLock(path):
        import subprocess
        import sys

        code = (
            "import sys; from cniscrub.apply.lock import CleanerLock\n"
            "try:\n  CleanerLock(sys.argv[1]).__enter__()\nexcept Exception as e:\n"
            "  print(type(e).__name__)"
        )
        out = subprocess.run(
            [sys.executable, "-c", code, path],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        assert out.stdout.strip() == "LockHeldError"
    with CleanerLock(path):
        pass
    assert issubclass(LockHeldError, Exception)


def test_restore_of_missing_journal_is_an_error(tmp_path: Path) -> None:
    from cniscrub.journal.reader import NotAJournalError

    with pytest.raises(NotAJournalError):
        read_journal(str(tmp_path))


def test_targeted_verify_finds_a_reappearing_file(tmp_path: Path) -> None:
    from cniscrub.apply.verify import remaining, verify_acted

    root = _root(tmp_path)
    fs = RootFS(str(root))
    entries, notes = files.collect(fs, FLANNEL_PLACES)
    inv = Inventory(notes=notes)
    inv.add(files.parse(entries))
    plan = build_plan(inv, Policy("flannel"))
    assert remaining(fs, FakeRunner(), plan.actions) == list(plan.actions)
    journal = Journal.create(str(tmp_path / "j"), plan.plan_id, plan.to_json())
    Executor(fs, FakeRunner(), journal, plan).run()
    assert verify_acted(fs, FakeRunner(), plan.actions)["clean"] is True
    (root / "run/flannel").mkdir(parents=True)
    (root / "run/flannel/subnet.env").write_text("FLANNEL_NETWORK=10.244.0.0/16\n")
    report = verify_acted(fs, FakeRunner(), plan.actions)
    assert report["clean"] is False and report["remaining"] == 2
    assert sorted(report["left"]) == [
        "directory /run/flannel",
        "file /run/flannel/subnet.env",
    ]


def test_nested_lock_is_held_until_the_outer_exit(tmp_path: Path) -> None:
    """The CLI takes the lock before importing the rest; the command's `with` on the
    same object nests and must not release it early."""
    import fcntl

    path = str(tmp_path / "lock")
    lock = CleanerLock(path)

    def held_by_someone() -> bool:
        fd = os.open(path, os.O_RDWR)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        finally:
            os.close(fd)
        return False

    with lock:
        with lock:
            assert held_by_someone()
        assert held_by_someone()  # inner exit keeps it
    assert not held_by_someone()


def test_journal_keeps_small_files_inline_and_big_ones_as_blobs(
    tmp_path: Path,
) -> None:
    from cniscrub.errors import BackupError
    from cniscrub.journal import filestore

    root = tmp_path / "root"
    root.mkdir()
    (root / "small").write_bytes(b"\x00\xffipam")
    (root / "big").write_bytes(b"x" * (filestore.INLINE_MAX + 1))
    with open(root / "huge", "wb") as fh:  # sparse: no disk, but over the cap
        fh.truncate(filestore.CAP + 1)
    fs = RootFS(str(root))
    j = Journal.create(str(tmp_path), "abc", {"actions": []}, str(root))
    small, big = j.keep_file(fs, "/small", "1"), j.keep_file(fs, "/big", "2")
    assert "data_b64" in small and big["blob"] == "2"
    blobs = os.path.join(j.path, "blobs")
    assert b"".join(filestore.chunks(small, blobs)) == b"\x00\xffipam"
    assert b"".join(filestore.chunks(big, blobs)) == b"x" * (filestore.INLINE_MAX + 1)
    filestore.check(big, blobs)
    with pytest.raises(BackupError, match="over the backup cap"):
        j.keep_file(fs, "/huge", "3")
    assert j.broken is None  # a refused file is not a journal failure
    Path(blobs, "2").write_bytes(b"y" * (filestore.INLINE_MAX + 1))
    with pytest.raises(filestore.StoredFileError, match="do not match"):
        filestore.check(big, blobs)
    assert read_journal(j.path).root == os.path.realpath(root)


def test_lean_pyroute2_imports_only_what_is_used_and_falls_back() -> None:
    """Run in a fresh interpreter (this one has pyroute2 fully imported)."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from cniscrub.node import pyroute2_lean\n"
        "pyroute2_lean.install()\n"
        "from pyroute2.iproute.linux import IPRoute\n"
        "lean = 'pyroute2.ndb.main' not in sys.modules\n"
        "from pyroute2 import NDB, IPRoute as Top\n"  # a top-level name: full load
        "import pyroute2\n"
        "print(lean, 'pyroute2.ndb.main' in sys.modules, Top is IPRoute,"
        " bool(pyroute2.__version__))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert out.stdout.split() == ["True", "True", "True", "True"], out.stderr
