"""Journal integrity (issue 13, class 2): restore refuses what it cannot trust, by name,
and changes nothing for it. Journals are written by a real file-only apply on a temp
root, then tampered with the way an editor, a bad disk or a forger would."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path
from typing import Any

import pytest
from fake_runner import FakeRunner
from journal_forgery import Event, backup_line, edit, forge, forge_everything, planned

from cniscrub import footprints
from cniscrub.apply.executor import Executor
from cniscrub.apply.restore import restore_journal
from cniscrub.cli.main import main
from cniscrub.inventory import files, parse_raw
from cniscrub.inventory.model import Inventory
from cniscrub.journal.format import digest_of
from cniscrub.journal.reader import JournalError, read_journal
from cniscrub.journal.writer import Journal
from cniscrub.node.rootfs import RootFS
from cniscrub.plan.model import Plan
from cniscrub.plan.planner import Policy, build_plan

CONF = "/etc/cni/net.d/10-flannel.conflist"
GOLDEN = Path(__file__).parents[2] / "fixtures/cniscrub/plan"
CASE_WITH = {"ipt_rule": "v0.27-nft-foreign", "route": "v0.27-nft-foreign"}
CASE_WITH["nft_table"] = "nft-mode-dualstack"


def _applied(tmp: Path) -> tuple[Path, str]:
    """A temp root with Flannel files, cleaned by a real apply: (root, journal)."""
    root = tmp / "root"
    tree = {
        CONF: json.dumps({"name": "cbr0", "plugins": [{"type": "flannel"}]}),
        "/run/flannel/subnet.env": "FLANNEL_NETWORK=10.244.0.0/16\n",
        "/var/lib/cni/networks/cbr0/10.244.1.2": "cid\r\neth0",
        "/var/lib/cni/networks/cbr0/10.244.1.3": "cid2\r\neth0",
    }
    for rel, data in tree.items():
        (root / rel.lstrip("/")).parent.mkdir(parents=True, exist_ok=True)
        (root / rel.lstrip("/")).write_text(data)
    fs = RootFS(str(root))
    entries, notes = files.collect(fs, footprints.get("flannel").scope.file_places)
    inv = Inventory(notes=notes)
    inv.add(files.parse(entries))
    plan = build_plan(inv, Policy("flannel"))
    journal = Journal.create(str(tmp / "j"), plan.plan_id, plan.to_json(), str(root))
    assert all(r.ok for r in Executor(fs, FakeRunner(), journal, plan).run())
    return root, journal.path


def _new_bytes(e: Event) -> None:
    e["payload"]["data_b64"] = base64.b64encode(b'{"evil": true}').decode()


def _restore(root: Path, journal: str) -> Any:
    return restore_journal(read_journal(journal), RootFS(str(root)), FakeRunner())


def _by_key(report: Any) -> dict[str, Any]:
    return {r.target.split(" ", 1)[1]: r for r in report.results}


def test_an_edited_backup_is_refused_by_line_and_left_alone(tmp_path: Path) -> None:
    root, journal = _applied(tmp_path)
    n = backup_line(journal, lambda a: a["key"] == CONF)
    edit(journal, n, _new_bytes)
    report = _restore(root, journal)
    conf = _by_key(report)[CONF]
    assert conf.status == "refused" and f"line {n}" in conf.reason
    assert "changed after it was written" in conf.reason
    assert not (root / CONF.lstrip("/")).exists()  # nothing it cannot trust
    assert (root / "run/flannel/subnet.env").read_text().startswith("FLANNEL_NETWORK")
    assert not report.ok and any(f"line {n}" in p for p in report.problems)


def test_a_redigested_line_breaks_the_chain_at_the_next_line(tmp_path: Path) -> None:
    root, journal = _applied(tmp_path)
    n = backup_line(journal, lambda a: a["key"] == CONF)
    forge(journal, n, _new_bytes, chain=False)
    report = _restore(root, journal)
    assert _by_key(report)[CONF].status == "refused"
    assert any(f"line {n + 1}" in p and "does not follow" in p for p in report.problems)
    assert not (root / CONF.lstrip("/")).exists()


def test_a_consistent_forgery_of_file_bytes_is_caught_by_the_plan(
    tmp_path: Path,
) -> None:
    root, journal = _applied(tmp_path)

    def forged(e: Event) -> None:
        data = b'{"evil": true}'
        e["payload"].update(
            data_b64=base64.b64encode(data).decode(),
            size=len(data),
            sha256=digest_of(data),
        )

    forge(journal, backup_line(journal, lambda a: a["key"] == CONF), forged, chain=True)
    report = _restore(root, journal)
    conf = _by_key(report)[CONF]
    assert (
        conf.status == "refused" and "differ from the file the plan read" in conf.reason
    )
    assert report.problems == [] and not (root / CONF.lstrip("/")).exists()


def test_an_unreadable_middle_line_is_named_and_its_object_reported_missing(
    tmp_path: Path,
) -> None:
    root, journal = _applied(tmp_path)
    n = backup_line(journal, lambda a: a["key"] == "/run/flannel/subnet.env")
    raw = Path(journal, "journal.jsonl").read_bytes().split(b"\n")
    raw[n - 1] = b'{"event": "backup", "act\x00\xff'
    Path(journal, "journal.jsonl").write_bytes(b"\n".join(raw))
    report = _restore(root, journal)
    assert any(p.startswith(f"journal.jsonl line {n}:") for p in report.problems)
    missing = _by_key(report)["/run/flannel/subnet.env"]
    assert missing.status == "refused" and "backup cannot be used" in missing.reason
    assert (root / CONF.lstrip("/")).exists() and not report.ok


def test_a_torn_last_line_is_tolerated_and_said(tmp_path: Path) -> None:
    root, journal = _applied(tmp_path)
    with open(Path(journal, "journal.jsonl"), "ab") as fh:
        fh.write(b'{"event":"result","act')
    report = _restore(root, journal)
    assert report.ok and report.problems == []
    assert any("is torn" in n for n in report.notes)
    assert (root / CONF.lstrip("/")).exists()


@pytest.mark.parametrize("what", ["plan.json", "start root"])
def test_an_edited_anchor_refuses_the_whole_journal(tmp_path: Path, what: str) -> None:
    _, journal = _applied(tmp_path)
    if what == "plan.json":
        plan = json.loads(Path(journal, "plan.json").read_text())
        plan["actions"][0]["target"] = "file /etc/passwd"
        Path(journal, "plan.json").write_text(json.dumps(plan))
    else:
        edit(journal, 1, lambda e: e.update(root="/"))
    with pytest.raises(JournalError, match="line 1"):
        read_journal(journal)


def test_a_forged_root_does_not_choose_where_files_go(tmp_path: Path) -> None:
    root, journal = _applied(tmp_path)
    forge(journal, 1, lambda e: e.update(root="/"), chain=True)
    lock = ["--lock-file", str(tmp_path / "lock")]
    assert main(["restore", journal, "--yes", *lock]) == 4  # not confirmed
    assert not (root / CONF.lstrip("/")).exists()


def _golden_journal(tmp: Path, kind: str) -> tuple[str, Event]:
    """A journal (plan of a captured node) holding one backup of a ``kind`` action."""
    doc = json.loads((GOLDEN / f"{CASE_WITH[kind]}.json").read_text())
    plan = build_plan(parse_raw(doc["raw"], doc["notes"]), Policy("flannel"))
    action = next(a for a in plan.actions if a.kind == kind)
    journal = Journal.create(str(tmp / "j"), plan.plan_id, plan.to_json(), str(tmp))
    res = action.data["resource"]["data"]
    payload: Event = {"resource": dict(res), "covers": action.data.get("covers", [])}
    if kind == "nft_table":
        family, name = action.key.split(" ", 1)
        payload = {
            "family": family,
            "name": name,
            "json": {},
            "text": f"table {family} {name} {{\n}}\n",
        }
    slim = {
        "id": action.id,
        "kind": kind,
        "key": action.key,
        "target": action.target,
        "pos": 0,
    }
    journal.record({"event": "backup", "action": slim, "payload": payload})
    return journal.path, Plan.from_json(plan.to_json()).to_json()


def test_a_forged_rule_spec_with_a_second_command_never_reaches_iptables(
    tmp_path: Path,
) -> None:
    journal, _ = _golden_journal(tmp_path, "ipt_rule")
    evil = "-j ACCEPT\n-A INPUT -j DROP"

    def change(events: list[Event], plan: Event) -> None:
        backup = events[1]
        backup["payload"]["resource"]["spec"] = evil
        planned(plan, backup["action"]["id"])["data"]["resource"]["data"]["spec"] = evil

    forge_everything(journal, change)
    runner = FakeRunner()
    report = restore_journal(read_journal(journal), RootFS(str(tmp_path)), runner)
    assert [r.status for r in report.results] == ["refused"]
    assert "line break" in str(report.results[0].reason)
    assert not [c for c in runner.calls if "restore" in c[0]]


def test_forged_nft_text_with_a_second_table_never_reaches_nft(tmp_path: Path) -> None:
    journal, _ = _golden_journal(tmp_path, "nft_table")

    def change(events: list[Event], plan: Event) -> None:
        events[1]["payload"]["text"] += "table ip evil {\n chain c {\n }\n}\n"

    forge_everything(journal, change)
    runner = FakeRunner()
    report = restore_journal(read_journal(journal), RootFS(str(tmp_path)), runner)
    assert [r.status for r in report.results] == ["refused"]
    assert "text after the table block" in str(report.results[0].reason)
    assert not [c for c in runner.calls if c[:2] == ("nft", "-f")]


def test_a_backup_for_another_object_than_planned_is_refused(tmp_path: Path) -> None:
    journal, _ = _golden_journal(tmp_path, "route")

    def change(events: list[Event], plan: Event) -> None:
        events[1]["payload"]["resource"]["dst"] = "0.0.0.0/0"

    forge_everything(journal, change)
    report = restore_journal(read_journal(journal), RootFS(str(tmp_path)), FakeRunner())
    assert [r.status for r in report.results] == ["refused"]
    assert "differs from the one plan.json recorded" in str(report.results[0].reason)
    assert os.listdir(tmp_path) == ["j"]
