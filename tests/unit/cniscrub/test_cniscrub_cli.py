"""CLI surface: exit codes, --help text, usage errors, rendering (no node access)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cniscrub.cli.main import build_parser, main
from cniscrub.cli.render import plan_lines
from cniscrub.exitcodes import ExitCode
from cniscrub.inventory import parse_raw
from cniscrub.plan.planner import Policy, build_plan

PLAN = Path(__file__).parents[2] / "fixtures/cniscrub/plan/v0.27-nft-foreign.json"


def test_exit_codes_are_the_contract() -> None:
    assert [int(c) for c in ExitCode] == [0, 1, 2, 3, 4, 5, 6]
    assert ExitCode.STALE_PLAN.name == "STALE_PLAN" and ExitCode.REFUSED == 6


def test_help_mentions_every_command_and_code(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for word in ("plan", "apply", "verify", "restore", "5 stale plan", "6 refused"):
        assert word in out


@pytest.mark.parametrize(
    "argv", [["plan"], ["bogus"], ["apply", "--yes"], ["plan", "--cni", "calico"]]
)
def test_usage_errors_exit_4(argv: list[str]) -> None:
    assert main(argv) == ExitCode.USAGE


def test_root_must_exist(tmp_path: Path) -> None:
    assert main(["plan", "--cni", "flannel", "--root", str(tmp_path / "nope")]) == 4


def test_restore_refuses_without_yes(tmp_path: Path) -> None:
    assert main(["restore", str(tmp_path)]) == ExitCode.REFUSED


def test_apply_accepts_plan_file_and_flags() -> None:
    args = build_parser().parse_args(
        ["apply", "p.json", "--yes", "--force", "--journal-dir", "/tmp/j"]
    )
    assert (args.plan_file, args.yes, args.force, args.journal_dir) == (
        "p.json",
        True,
        True,
        "/tmp/j",
    )


def test_human_plan_lines_are_tagged() -> None:
    doc = json.loads(PLAN.read_text())
    plan = build_plan(parse_raw(doc["raw"], doc["notes"]), Policy())
    lines = list(plan_lines(plan))
    assert all(line.startswith("[") for line in lines)
    assert any(
        line.startswith(
            "[plan] Would delete chain FLANNEL-FWD (filter, nft "
            "backend, IPv4): chain FLANNEL-FWD is created only by "
            "flanneld"
        )
        for line in lines
    )
    assert lines[-1].endswith("action(s) pending")


def test_unreadable_plan_file_is_a_usage_error(tmp_path: Path) -> None:
    bad = tmp_path / "plan.json"
    bad.write_text("{not json")
    code = main(["apply", str(bad), "--yes", "--lock-file", str(tmp_path / "lock")])
    assert code == ExitCode.USAGE
