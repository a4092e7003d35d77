"""The four subcommands: build the context, call the library, render, return a code.

Library code never prints; this module writes tagged human lines or one JSON document.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from typing import TYPE_CHECKING, Any

from cniscrub.apply.journal import DEFAULT_JOURNAL_DIR, Journal
from cniscrub.apply.lock import CleanerLock, LockHeldError
from cniscrub.cli.render import action_line, plan_lines, result_lines
from cniscrub.errors import CleanerError, PlanError, StalePlanError
from cniscrub.exitcodes import ExitCode
from cniscrub.inventory import collect_inventory
from cniscrub.inventory.model import Inventory
from cniscrub.node.local import LocalRunner
from cniscrub.node.rootfs import RootFS
from cniscrub.plan.model import Plan
from cniscrub.plan.planner import Policy, build_plan

if TYPE_CHECKING:
    from cniscrub.apply.link_state import LinkState

log = logging.getLogger(__name__)


def _out(args: argparse.Namespace, doc: dict[str, Any], lines: list[str]) -> None:
    if args.json:
        # no indent: json's C encoder (the pure-Python indenting one is ~5x slower)
        sys.stdout.write(json.dumps(doc, sort_keys=True, default=str) + "\n")
    else:
        sys.stdout.write("".join(line + "\n" for line in lines))


def _err(msg: str) -> None:
    sys.stderr.write(f"cniscrub: {msg}\n")


def _inventory_and_plan(args: argparse.Namespace, cni: str) -> tuple[Inventory, Plan]:
    """Inventory + plan for a command's arguments (``args.prefetch``: the rule
    collection the CLI already started)."""
    from cniscrub.footprints import RULE_FILTERS

    pending = getattr(args, "prefetch", None)
    fs, rule_filter = RootFS(args.root), RULE_FILTERS.get(cni)
    inv = collect_inventory(fs, LocalRunner(), rule_filter, pending)
    force = getattr(args, "force", False)
    return inv, build_plan(inv, Policy(cni=cni, force=force))


def make_plan(args: argparse.Namespace, cni: str) -> Plan:
    """:func:`_inventory_and_plan` without the inventory."""
    return _inventory_and_plan(args, cni)[1]


def cmd_plan(args: argparse.Namespace) -> ExitCode:
    plan = make_plan(args, args.cni)
    if args.out:
        with open(args.out, "w", encoding="utf-8") as fh:
            json.dump(
                {**plan.to_json(), "root": args.root}, fh, indent=1, sort_keys=True
            )
    code = ExitCode.OK if plan.empty else ExitCode.CHANGES_PENDING
    _out(args, {**plan.to_json(), "exit_code": int(code)}, list(plan_lines(plan)))
    return code


def cmd_verify(args: argparse.Namespace) -> ExitCode:
    plan = make_plan(args, args.cni)
    code = ExitCode.OK if plan.empty else ExitCode.CHANGES_PENDING
    doc = {
        "schema": "cniscrub/verify/v1",
        "clean": plan.empty,
        "residue": [a.to_json() for a in plan.actions],
        "left_alone": [{"target": t, "why": w} for t, w in plan.left_alone],
        "warnings": list(plan.warnings),
        "exit_code": int(code),
    }
    lines = list(plan_lines(plan, "verify"))
    lines.append(
        "[verify] ✓ clean" if plan.empty else "[verify] ✗ Flannel residue remains"
    )
    _out(args, doc, lines)
    return code


def _load_plan(args: argparse.Namespace) -> Plan:
    """The saved plan; its ``root`` becomes the default for ``--root``."""
    path = args.plan_file
    try:
        with open(path, encoding="utf-8") as fh:
            doc = json.load(fh)
        if args.root is None:
            args.root = doc.get("root") or "/"
        return Plan.from_json(doc)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise PlanError(f"cannot read plan {path}: {exc}") from exc


def _confirm(args: argparse.Namespace, plan: Plan) -> bool:
    if args.yes:
        return True
    if not sys.stdin.isatty():
        _err("refusing to apply without --yes when stdin is not a TTY")
        return False
    sys.stdout.write("".join(line + "\n" for line in plan_lines(plan)))
    sys.stdout.write("Apply this plan? [y/N] ")
    sys.stdout.flush()
    return sys.stdin.readline().strip().lower() in ("y", "yes")


def _apply_doc(
    plan: Plan,
    journal: str | None,
    results: list[dict[str, Any]],
    verify: dict[str, Any] | None,
    code: ExitCode,
) -> dict[str, Any]:
    return {
        "schema": "cniscrub/apply/v1",
        "plan": plan.to_json(),
        "journal": journal,
        "results": results,
        "verify": verify,
        "exit_code": int(code),
    }


def _checked_plan(
    args: argparse.Namespace, saved: Plan | None, cni: str
) -> tuple[Inventory, Plan]:
    """A fresh plan (with its inventory); a saved one must still match the node
    (else StalePlanError)."""
    inv, plan = _inventory_and_plan(args, cni)
    if saved and saved.fingerprint != plan.fingerprint:
        raise StalePlanError(
            f"plan {saved.plan_id} is stale: the node changed (now "
            f"{plan.plan_id}); run `cniscrub plan` again"
        )
    return inv, plan


def _report_apply(
    args: argparse.Namespace,
    plan: Plan,
    journal: str,
    results: list[dict[str, Any]],
) -> ExitCode:
    """Exit 3 when an action failed or an acted-on object is still on the node."""
    from cniscrub.apply.verify import verify_acted

    failed = [r for r in results if r["status"] == "failed"]
    lines = [f"[apply] journal: {journal}"]
    verify = None
    if not args.no_verify:
        verify = verify_acted(RootFS(args.root), LocalRunner(), plan.actions)
        if verify["clean"]:
            lines.append(
                f"[verify] ✓ clean ({verify['checked']} acted-on objects gone)"
            )
        else:
            lines.append(f"[verify] ✗ {verify['remaining']} left:")
            lines += [f"[verify]   {target}" for target in verify["left"]]
    bad = failed or (verify is not None and not verify["clean"])
    code = ExitCode.PARTIAL if bad else ExitCode.OK
    lines.append(f"[apply] {len(results) - len(failed)} applied, {len(failed)} failed")
    _out(args, _apply_doc(plan, journal, results, verify, code), lines)
    return code


def cmd_apply(args: argparse.Namespace) -> ExitCode:
    from cniscrub.apply.link_state import LinkState

    saved = _load_plan(args) if args.plan_file else None
    cni = saved.cni if saved else args.cni
    links = LinkState(getattr(args, "netlink_child", None))
    with getattr(args, "lock", None) or CleanerLock(args.lock_file):
        return _apply_locked(args, saved, cni, links)


def _apply_locked(
    args: argparse.Namespace, saved: Plan | None, cni: str, links: LinkState
) -> ExitCode:
    """Plan, refuse or confirm, journal, execute, verify: all under the lock."""
    from cniscrub.apply.executor import Executor

    inv, plan = _checked_plan(args, saved, cni)
    if plan.blockers and not args.force:
        _err("refused: " + "; ".join(plan.blockers) + " (use --force to override)")
        return ExitCode.REFUSED
    if plan.empty:
        done = f"[apply] plan {plan.plan_id}: nothing to do"
        _out(args, _apply_doc(plan, None, [], None, ExitCode.OK), [done])
        return ExitCode.OK
    if not _confirm(args, plan):
        return ExitCode.REFUSED
    base = args.journal_dir or os.path.join(
        os.path.realpath(args.root), DEFAULT_JOURNAL_DIR.lstrip("/")
    )
    journal = Journal.create(base, plan.plan_id, plan.to_json(), args.root)
    groups = {int(r.data.get("group") or 0) for r in inv.of("link")}
    executor = Executor(RootFS(args.root), LocalRunner(), journal, plan, links, groups)
    if args.json:
        results = executor.run()
    else:
        results = executor.run(
            lambda r: _out(args, {}, list(result_lines([r]))),
            lambda a: _out(args, {}, [action_line("apply", a)]),
        )
    return _report_apply(args, plan, journal.path, results)


def cmd_restore(args: argparse.Namespace) -> ExitCode:
    from cniscrub.apply.restore import restore_journal

    if not args.yes:
        _err("restore changes the node; pass --yes")
        return ExitCode.REFUSED
    journal = Journal.open(args.journal)
    if args.root is None:  # where the apply run worked, not this process' /
        args.root = journal.root() or "/"
        if not os.path.isdir(args.root):
            _err(f"the journal's root {args.root} is not a directory; give --root")
            return ExitCode.USAGE
    if not args.json:
        _out(args, {}, [f"[restore] root: {args.root}"])
    with CleanerLock(args.lock_file):
        results = restore_journal(journal, RootFS(args.root), LocalRunner())
    failed = [r for r in results if r["status"] in ("failed", "not restorable")]
    code = ExitCode.PARTIAL if failed else ExitCode.OK
    doc = {
        "schema": "cniscrub/restore/v1",
        "journal": journal.path,
        "results": results,
        "exit_code": int(code),
    }
    _out(args, doc, list(result_lines(results)))
    return code


COMMANDS = {
    "plan": cmd_plan,
    "verify": cmd_verify,
    "apply": cmd_apply,
    "restore": cmd_restore,
}


def run(args: argparse.Namespace) -> ExitCode:
    defaulted = args.command == "restore" or getattr(args, "plan_file", None)
    if not defaulted and args.root is None:  # restore/apply PLAN: from the file
        args.root = "/"
    if args.root is not None and not os.path.isdir(args.root):
        _err(f"--root {args.root} is not a directory")
        return ExitCode.USAGE
    try:
        return COMMANDS[args.command](args)
    except PlanError as exc:
        _err(str(exc))
        return ExitCode.USAGE
    except LockHeldError as exc:
        _err(str(exc))
        return ExitCode.REFUSED
    except StalePlanError as exc:
        _err(str(exc))
        return ExitCode.STALE_PLAN
    except CleanerError as exc:
        _err(f"error: {exc}")
        return ExitCode.ERROR
    except Exception as exc:  # last resort: a message and exit 1, never a bare crash
        log.exception("unexpected error")
        _err(f"unexpected error: {type(exc).__name__}: {exc} (run with -v for details)")
        return ExitCode.ERROR
