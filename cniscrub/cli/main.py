"""The ``cniscrub`` command line: parse the arguments, start the early reads, build the
one :class:`~cniscrub.cli.context.RunContext` of the run, run the subcommand, and turn
any error into its exit code and message (and, with ``--json``, a document).

>>> build_parser().parse_args(["plan", "--cni", "flannel"]).command
'plan'
"""

from __future__ import annotations

import argparse
import gc
import json
import logging
import os
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, NoReturn

from cniscrub import __version__, footprints
from cniscrub.apply.lock import DEFAULT_LOCK
from cniscrub.cli.context import EarlyReads, RunContext
from cniscrub.errors import UsageError
from cniscrub.exitcodes import ExitCode
from cniscrub.journal import DEFAULT_JOURNAL_DIR

if TYPE_CHECKING:
    from cniscrub.plan.model import Plan

DESCRIPTION = """\
Remove exactly what one Kubernetes CNI left on this node -- nothing else -- with a plan
you can read first, a journal + backup, a verification and an undo.

  cniscrub plan --cni NAME               show what would be removed, with evidence
  cniscrub apply --cni NAME --yes        back up, remove, verify
  cniscrub verify --cni NAME             exit 0 when none of its residue is left
  cniscrub restore JOURNAL --yes         put back everything a journal removed
  cniscrub cluster plan|apply|verify     the same for a whole cluster (API objects,
                                         a Job per node; pip install 'cniscrub[cluster]')

Exit codes: 0 ok/clean, 1 error, 2 changes pending/residue found, 3 partial failure,
4 usage, 5 stale plan, 6 refused (the CNI's agent running, lock held, no --yes without
a TTY).
"""

ROOT_HELP = (  # default "/", or the --root a saved PLAN was made with
    "resolve every file path under DIR, never leaving it (e.g. /host in a pod "
    "with the host's root mounted); network state is always the current netns"
)
DEFAULTS = {  # every subcommand's namespace has every field (no getattr needed)
    "cni": None,
    "root": None,
    "json": False,
    "verbose": False,
    "yes": False,
    "force": False,
    "no_verify": False,
    "lock_file": DEFAULT_LOCK,
    "journal_dir": None,
    "out": None,
    "plan_file": None,
    "journal": None,
    "journal_root": False,
}


class ArgumentsError(UsageError):
    """The command line does not parse; the text holds the usage of the parser (the
    subcommand's, when the error is in its arguments) and the error."""


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors raise :class:`ArgumentsError`; the top-level
    one knows its subcommands' parsers."""

    subcommands: dict[str, argparse.ArgumentParser]

    def error(self, message: str) -> NoReturn:
        raise ArgumentsError(f"{self.format_usage()}{self.prog}: error: {message}")


def _common(p: argparse.ArgumentParser, cni: bool = True) -> None:
    if cni:
        p.add_argument(
            "--cni",
            choices=footprints.names(),
            help="the CNI whose residue to remove (required unless a PLAN is given)",
        )
    p.add_argument("--root", metavar="DIR", help=ROOT_HELP)
    p.add_argument(
        "--json",
        action="store_true",
        help="print one JSON document (docs/cniscrub-json-schema.md)",
    )
    p.add_argument(
        "-v", "--verbose", action="store_true", help="debug logging on stderr"
    )


def _locking(p: argparse.ArgumentParser) -> None:
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    p.add_argument(
        "--lock-file",
        metavar="PATH",
        help=f"one cleaner at a time: flock on PATH (default {DEFAULT_LOCK})",
    )


def _apply_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "plan_file",
        nargs="?",
        metavar="PLAN",
        help="apply exactly this saved plan; refused (exit 5) if the node changed",
    )
    _common(p)
    _locking(p)
    p.add_argument(
        "--journal-dir",
        metavar="DIR",
        help=f"where journals go (default {DEFAULT_JOURNAL_DIR} under --root, so a "
        "pod with the host at /host keeps them on the host; one <time>-<plan id> "
        "directory per run)",
    )
    p.add_argument(
        "--force",
        action="store_true",
        help="run even though the CNI's agent (e.g. flanneld) is running",
    )
    p.add_argument(
        "--no-verify",
        action="store_true",
        help="skip the check that every acted-on object is gone (run "
        "`cniscrub verify` afterwards for the full check)",
    )


SUBCOMMANDS = {  # name: (one-line help, description)
    "plan": (
        "show what would be removed (exit 2 if anything)",
        "Inventory the node and print the plan: every action with its evidence, "
        "then what is left alone and why. Changes nothing.",
    ),
    "apply": (
        "back up and remove the residue",
        "Take the lock, refuse while the CNI's agent runs, back up every object into "
        "a journal, remove in a safe order, then verify.",
    ),
    "verify": (
        "exit 0 when no residue is left, 2 otherwise",
        "Inventory + plan again; clean means the plan is empty.",
    ),
    "restore": (
        "put back everything a journal removed",
        "Check the journal line by line, then replay what it can vouch for in "
        "reverse: files, links with their addresses/routes/neighbours/FDB, routes, "
        "nft tables, iptables rules. Files go back under --root; without it, under "
        "the root the journal recorded when the journal sits in that root's journal "
        "directory (or with --journal-root).",
    ),
}


def build_parser() -> Parser:
    parser = Parser(
        prog="cniscrub",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--version", action="version", version=f"cniscrub {__version__}"
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    subs = {
        name: sub.add_parser(name, help=h, description=d)
        for name, (h, d) in SUBCOMMANDS.items()
    }
    _common(subs["plan"])
    subs["plan"].add_argument(
        "--out", metavar="PLAN", help="also save the plan as JSON for `apply PLAN`"
    )
    _apply_options(subs["apply"])
    _common(subs["verify"])
    subs["restore"].add_argument(
        "journal", metavar="JOURNAL", help="a journal directory written by apply"
    )
    _common(subs["restore"], cni=False)
    _locking(subs["restore"])
    subs["restore"].add_argument(
        "--journal-root",
        action="store_true",
        help="restore under the --root the journal says its apply run used, though "
        "the journal is not in that root's journal directory (otherwise give --root)",
    )
    for p in subs.values():
        p.set_defaults(**DEFAULTS)
    from cniscrub.cluster.cli import add_parser as add_cluster

    parser.subcommands = {**subs, "cluster": add_cluster(sub)}
    return parser


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    """The arguments; an unknown one is reported with its subcommand's usage."""
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra:
        parser.subcommands[args.command].error(
            f"unrecognized arguments: {' '.join(extra)}"
        )
    return args


def start_early_reads(args: argparse.Namespace) -> EarlyReads:
    """Start the reads that run beside this process before the rest of cniscrub is
    imported: the ``*-save`` processes and, for apply, a child decoding on the other
    core the neighbour/FDB tables of the links (only apply reads them; measured on
    a 1 000-peer node, giving the child the routes too made it the slowest path).
    The ``*-save`` processes (0.09 s on the bench's large node) run while cniscrub's
    own modules import (0.03 s) and the netlink tables are read. apply takes the
    lock first, so nothing is read while another cleaner may still change the node.
    plan/verify get no netlink child: measured, its interpreter start and pyroute2
    import cost about what it would save there."""
    early = EarlyReads()
    if args.command not in ("plan", "verify", "apply"):
        return early
    from cniscrub.inventory.iptables import Pending
    from cniscrub.node.runner import LocalRunner

    if args.command == "apply":
        from cniscrub.apply.lock import CleanerLock, LockHeldError
        from cniscrub.node.netlink_child import DumpChild

        lock = CleanerLock(args.lock_file)
        try:  # reads start only once no other cleaner can change the node
            lock.acquire()
        except (LockHeldError, OSError):
            return early  # the preflight phase takes the lock and says why it cannot
        early.lock = lock
        early.link_tables = DumpChild(("link-tables",))
    early.rules = Pending(LocalRunner())
    return early


def _saved_plan(path: str) -> tuple[Plan, str | None]:
    """A ``plan --out`` file: the plan and the root it was made for."""
    from cniscrub.errors import PlanError
    from cniscrub.plan.model import Plan

    try:
        with open(path, encoding="utf-8") as fh:
            doc = json.load(fh)
        root = doc.get("root")
        return Plan.from_json(doc), root if isinstance(root, str) else None
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise PlanError(f"cannot read plan {path}: {exc}") from exc


def build_context(args: argparse.Namespace, early: EarlyReads) -> RunContext:
    """The run's context: ``--cni`` (or the saved plan's CNI) and the root resolved."""
    saved, saved_root = _saved_plan(args.plan_file) if args.plan_file else (None, None)
    cni = saved.cni if saved else args.cni
    if args.command in ("plan", "verify", "apply") and not cni:
        plan = " or a PLAN file" if args.command == "apply" else ""
        known = ", ".join(footprints.names())
        raise UsageError(f"{args.command}: give --cni NAME{plan} (known: {known})")
    if saved and args.cni and args.cni != saved.cni:
        raise UsageError(f"--cni {args.cni} does not match the plan's CNI {saved.cni}")
    if cni and cni not in footprints.names():
        raise UsageError(
            f"unknown CNI {cni!r} (known: {', '.join(footprints.names())})"
        )
    root = args.root
    if root is None and args.command != "restore":  # restore: the journal's root
        root = saved_root or "/"
    if root is not None and not os.path.isdir(root):
        raise UsageError(f"--root {root} is not a directory")
    return RunContext(
        command=args.command,
        cni=cni,
        root=root,
        json=args.json,
        yes=args.yes,
        force=args.force,
        verify=not args.no_verify,
        lock_file=args.lock_file,
        journal_dir=args.journal_dir,
        out=args.out,
        saved_plan=saved,
        journal=args.journal,
        journal_root=args.journal_root,
        early=early,
    )


def _commands() -> dict[str, Callable[[RunContext], ExitCode]]:
    from cniscrub.cli.apply_cmd import cmd_apply
    from cniscrub.cli.commands import cmd_plan, cmd_restore, cmd_verify

    return {
        "plan": cmd_plan,
        "verify": cmd_verify,
        "apply": cmd_apply,
        "restore": cmd_restore,
    }


def main(argv: Sequence[str] | None = None) -> int:
    """The ``cniscrub`` command. The cyclic garbage collector is off while it runs:
    a command is a short process whose big structures (inventory, plan, journal
    payloads) are acyclic, and the collector's full passes over them cost ~0.1 s on
    a large node while freeing nothing (reference counting frees the rest)."""
    from cniscrub.node import pyroute2_lean

    pyroute2_lean.install()  # only the pyroute2 modules cniscrub uses get imported
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _main(list(sys.argv[1:] if argv is None else argv))
    finally:
        if enabled:
            gc.enable()


def _main(argv: list[str]) -> int:
    from cniscrub.cli.failures import classify, error_document
    from cniscrub.cli.output import Output

    command, early = None, EarlyReads()
    try:
        args = parse(argv)
        command = args.command
        logging.basicConfig(
            level=logging.DEBUG if args.verbose else logging.WARNING,
            stream=sys.stderr,
            format="%(levelname)s %(name)s: %(message)s",
        )
        if command == "cluster":  # the cluster half: Kubernetes API + node Jobs
            from cniscrub.cluster.cli import run as run_cluster

            command = f"cluster {args.cluster_command}"
            return run_cluster(args)
        early = start_early_reads(args)
        ctx = build_context(args, early)
        return int(_commands()[ctx.command](ctx))
    except SystemExit as exc:  # --help, --version
        return int(exc.code or 0) if isinstance(exc.code, int | None) else 1
    except Exception as exc:
        code, message = classify(exc)
        if isinstance(exc, ArgumentsError):
            sys.stderr.write(f"{exc}\n")
        else:
            Output.error(message)
        if "--json" in argv:
            Output(json=True).document(error_document(command, exc, code, message))
        return int(code)
    finally:
        early.close()
