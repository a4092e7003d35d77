"""``cniscrub-lab``: clusters on this machine (sandbox: without Docker).

Subcommands are thin: parse flags, call the provider (``--provider``, through the
registry in :mod:`harness.providers`), render text or JSON. Progress goes to stderr,
results to stdout, so ``--json`` output can be piped.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable, Sequence

from harness.cli import cluster_cmds
from harness.providers import DEFAULT_PROVIDER, PROVIDERS
from harness.providers.base import NodeNotRunning, ProviderError

EPILOG = """\
examples:
  cniscrub-lab up --nodes 3                 # lab-control-plane, lab-worker, lab-worker2
  cniscrub-lab status --json
  cniscrub-lab exec worker -- ip -br link   # short node names are fine
  cniscrub-lab up --name barx --nodes 2
  cniscrub-lab exec barx-worker -- hostname # a full node name finds its cluster
  cniscrub-lab reboot lab-worker            # /run, links, rules vanish; /etc /opt /var stay
  cniscrub-lab stop lab-worker2             # power off (NotReady after the grace period)
  cniscrub-lab start lab-worker2
  KUBECONFIG=$(cniscrub-lab kubeconfig) kubectl get nodes
  cniscrub-lab down
  cniscrub-lab gc                           # remove what a crashed run left behind

State lives under $CNISCRUB_LAB_HOME (default /run/cniscrub-lab). Needs root.
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cniscrub-lab",
        description="Kubernetes clusters for reproducing and testing CNI uninstall "
        "problems; the default provider (sandbox) needs no Docker: its nodes are Linux "
        "namespaces.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    parser.add_argument(
        "--provider",
        default=DEFAULT_PROVIDER,
        choices=sorted(PROVIDERS),
        help=f"where clusters come from (default: {DEFAULT_PROVIDER})",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for register in cluster_cmds.REGISTER + _optional_commands():
        register(sub)
    return parser


def _optional_commands() -> list[Callable[[argparse._SubParsersAction], None]]:
    from harness.cli import images_cmd, validate_cmd

    try:
        from harness.cli import reproduce_cmd
    except ImportError:  # pragma: no cover - reproduce ships with the flannel emulation
        return [images_cmd.register, validate_cmd.register]
    return [reproduce_cmd.register, validate_cmd.register, images_cmd.register]


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    if os.geteuid() != 0:
        print(
            "cniscrub-lab: needs root (network namespaces, overlayfs)", file=sys.stderr
        )
        return 1
    try:
        return int(args.func(args))
    except (ProviderError, NodeNotRunning) as exc:
        print(f"cniscrub-lab: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("cniscrub-lab: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
