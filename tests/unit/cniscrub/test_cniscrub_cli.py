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
    plan = build_plan(parse_raw(doc["raw"], doc["notes"]), Policy("flannel"))
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


def test_unknown_flag_after_a_subcommand_shows_that_subcommands_usage(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["plan", "--cni", "flannel", "--bogus"]) == ExitCode.USAGE
    err = capsys.readouterr().err
    assert err.startswith("usage: cniscrub plan ")
    assert "cniscrub plan: error: unrecognized arguments: --bogus" in err


def test_json_errors_print_one_error_document(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["plan", "--cni", "flannel", "--root", str(tmp_path / "no"), "--json"]
    assert main(argv) == ExitCode.USAGE
    doc = json.loads(capsys.readouterr().out)
    assert doc["schema"] == "cniscrub/error/v1" and doc["exit_code"] == 4
    assert "is not a directory" in doc["error"]


def test_restore_of_a_missing_journal_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lock = ["--lock-file", str(tmp_path / "lock")]
    code = main(["restore", str(tmp_path / "nope"), "--yes", "--json", *lock])
    assert code == ExitCode.USAGE
    doc = json.loads(capsys.readouterr().out)
    assert doc["phase"] == "journal" and "not a cniscrub journal" in doc["error"]


def test_plan_out_into_a_missing_directory_is_a_clear_usage_error(
    tmp_path: Path,
) -> None:
    from cniscrub.cli.context import RunContext
    from cniscrub.cli.planning import save_plan
    from cniscrub.errors import UsageError
    from cniscrub.inventory.model import Inventory

    ctx = RunContext("plan", cni="flannel", root="/", json=False)
    plan = build_plan(Inventory(), Policy("flannel"))
    with pytest.raises(UsageError, match=r"is .* an existing, writable directory"):
        save_plan(ctx, plan, str(tmp_path / "missing" / "plan.json"))


def test_context_takes_cni_and_root_from_a_saved_plan(tmp_path: Path) -> None:
    from cniscrub.cli.context import EarlyReads
    from cniscrub.cli.main import build_context, parse
    from cniscrub.errors import UsageError
    from cniscrub.inventory.model import Inventory

    plan = build_plan(Inventory(), Policy("flannel"))
    saved = tmp_path / "plan.json"
    saved.write_text(json.dumps({**plan.to_json(), "root": str(tmp_path)}))
    ctx = build_context(parse(["apply", str(saved), "--yes"]), EarlyReads())
    assert (ctx.cni, ctx.root, ctx.saved_plan) == ("flannel", str(tmp_path), plan)
    other = parse(["apply", str(saved), "--root", "/"])
    assert build_context(other, EarlyReads()).root == "/"
    with pytest.raises(UsageError, match="--cni NAME"):
        build_context(parse(["verify"]), EarlyReads())


def test_a_registered_footprint_is_offered_and_its_agent_blocks() -> None:
    from cniscrub import footprints
    from cniscrub.footprints.model import Footprint
    from cniscrub.footprints.spec import FootprintSpec
    from cniscrub.inventory import Scope
    from cniscrub.inventory.model import Inventory, Resource

    spec = FootprintSpec("toy", "Toy", ("toyd",), Scope(), lambda i: Footprint("toy"))
    footprints.register(spec)
    try:
        assert build_parser().parse_args(["plan", "--cni", "toy"]).cni == "toy"
        inv = Inventory()
        proc = {"pid": 9, "comm": "toyd", "cmdline": "toyd", "same_netns": True}
        inv.add([Resource("process", "9", proc)])
        assert build_plan(inv, Policy("toy")).blockers == (
            "toyd is running (pid 9: toyd)",
        )
    finally:
        footprints.unregister("toy")
    assert "toy" not in footprints.names()


def test_action_results_keep_the_apply_and_restore_json_fields() -> None:
    from cniscrub.apply.result import ActionResult, Status

    ok = ActionResult(
        1, "t", Status.APPLIED, duration=0.5, backup_ref="journal.jsonl:2"
    )
    assert {"action", "target", "status", "error", "duration"} <= set(ok.to_json())
    assert ok.to_json()["error"] is None and ok.ok
    gone = ActionResult(2, "t", Status.NOT_RESTORABLE, "netns gone", tag="restore")
    assert gone.to_json()["error"] == "netns gone" and not gone.ok
