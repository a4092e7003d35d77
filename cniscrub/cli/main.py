"""The ``cniscrub`` command line: argument parsing only; the work is in
:mod:`cniscrub.cli.commands`.

>>> build_parser().parse_args(["plan", "--cni", "flannel"]).command
'plan'
"""

from __future__ import annotations

import argparse
import gc
import logging
import sys
from collections.abc import Sequence

from cniscrub import __version__
from cniscrub.apply.journal import DEFAULT_JOURNAL_DIR
from cniscrub.apply.lock import DEFAULT_LOCK
from cniscrub.exitcodes import ExitCode

DESCRIPTION = """\
Remove exactly what a Kubernetes CNI (today: Flannel) left on this node -- nothing
else -- with a plan you can read first, a journal + backup, a verification and an undo.

  cniscrub plan --cni flannel            show what would be removed, with evidence
  cniscrub apply --cni flannel --yes     back up, remove, verify
  cniscrub verify --cni flannel          exit 0 when no Flannel residue is left
  cniscrub restore JOURNAL --yes         put back everything a journal removed

Exit codes: 0 ok/clean, 1 error, 2 changes pending/residue found, 3 partial failure,
4 usage, 5 stale plan, 6 refused (flanneld running, lock held, no --yes without a TTY).
"""

ROOT_HELP = (  # default "/", or the --root a saved PLAN was made with
    "resolve every file path under DIR, never leaving it (e.g. /host in a pod "
    "with the host's root mounted); network state is always the current netns"
)


def _common(p: argparse.ArgumentParser, cni: bool = True) -> None:
    if cni:
        p.add_argument(
            "--cni",
            choices=["flannel"],
            default=None,
            help="the CNI whose residue to remove (required unless a PLAN is given)",
        )
    p.add_argument("--root", metavar="DIR", default=None, help=ROOT_HELP)
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
        default=DEFAULT_LOCK,
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
        default=None,
        metavar="DIR",
        help=f"where journals go (default {DEFAULT_JOURNAL_DIR} under --root, so a "
        "pod with the host at /host keeps them on the host; one <time>-<plan id> "
        "directory per run)",
    )
    p.add_argument(
        "--force",
        action="store_true",
        help="run even though a flanneld process is running",
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
        "Take the lock, refuse while flanneld runs, back up every object into a "
        "journal, remove in a safe order, then verify.",
    ),
    "verify": (
        "exit 0 when no residue is left, 2 otherwise",
        "Inventory + plan again; clean means the plan is empty.",
    ),
    "restore": (
        "put back everything a journal removed",
        "Replay a journal in reverse: files, links with their addresses/"
        "routes/neighbours/FDB, routes, nft tables, iptables rules. Files go back "
        "under the --root the apply run used (recorded in the journal) unless "
        "--root is given.",
    ),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
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
    return parser


def _prefetch(args: argparse.Namespace) -> None:
    """Start the reads that run beside this process before the rest of cniscrub is
    imported: the ``*-save`` processes and, for apply, a child decoding on the other
    core the neighbour/FDB tables of the links (only apply reads them; measured on
    a 1 000-peer node, giving the child the routes too made it the slowest path).
    apply takes the lock first, so nothing is read while another cleaner may still
    change the node. plan/verify get no netlink child: measured, its interpreter
    start and pyroute2 import cost about what it would save there."""
    if args.command == "apply":
        from cniscrub.apply.lock import CleanerLock, LockHeldError
        from cniscrub.inventory.iptables import Pending
        from cniscrub.node.local import LocalRunner
        from cniscrub.node.netlink_child import DumpChild

        lock = CleanerLock(args.lock_file)
        try:  # reads start only once no other cleaner can change the node
            lock.acquire()
        except (LockHeldError, OSError):
            return  # the command takes the lock itself and says why it cannot
        args.lock = lock
        args.netlink_child = DumpChild(("link-tables",))
        args.prefetch = Pending(LocalRunner())
    if args.command in ("plan", "verify") and args.cni:
        from cniscrub.inventory.iptables import Pending
        from cniscrub.node.local import LocalRunner

        args.prefetch = Pending(LocalRunner())


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
        return _main(argv)
    finally:
        if enabled:
            gc.enable()


def _main(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(ExitCode.USAGE) if exc.code not in (0, None) else 0

    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        stream=sys.stderr,
        format="%(levelname)s %(name)s: %(message)s",
    )
    if args.command in ("plan", "verify") and not args.cni:
        sys.stderr.write("cniscrub: error: --cni is required\n")
        return int(ExitCode.USAGE)
    if args.command == "apply" and not (args.cni or args.plan_file):
        sys.stderr.write("cniscrub: error: give --cni flannel or a PLAN file\n")
        return int(ExitCode.USAGE)
    _prefetch(args)
    from cniscrub.cli import commands

    try:
        return int(commands.run(args))
    finally:
        child = getattr(args, "netlink_child", None)
        if child is not None:
            child.close()
        lock = getattr(args, "lock", None)
        if lock is not None:
            lock.release()
