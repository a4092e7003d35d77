"""``cniscrub cluster plan|apply|verify``: the command line of the cluster half.

Parsing needs nothing but the standard library (``cniscrub --help`` works without the
``cluster`` extra); running imports the Kubernetes client and says how to install it
when it is missing.

Exit codes: plan 0 nothing to do / 2 pending; apply 0 every node clean and every API
step done / 3 not (unreachable, failed or refused nodes are listed) / 6 not confirmed;
``--dry-run`` 0 / 2 like plan; verify 0 clean / 2 residue found / 3 some node could not
be checked.
"""

from __future__ import annotations

import argparse
from typing import Any

from cniscrub import __version__, footprints
from cniscrub.cluster.errors import ClusterError
from cniscrub.errors import UsageError

__all__ = ["COMMANDS", "add_parser", "run", "run_id"]
DESCRIPTION = """\
Remove one CNI from a whole cluster through the Kubernetes API: its objects (the
DaemonSet first, then the rest in dependency order, its namespace last), the node
cleaner as one Job per node (privileged, host root at /host), and the annotations and
condition it wrote on the nodes. Needs the cluster extra: pip install 'cniscrub[cluster]'.

  cniscrub cluster plan   --cni NAME      what is there, and the ordered plan
  cniscrub cluster apply  --cni NAME --yes
  cniscrub cluster verify --cni NAME      every node re-planned through a Job
"""

COMMANDS = {
    "plan": "the CNI's objects, pods, node annotations/conditions and the ordered plan "
    "(and, unless --api-only, every node's own plan through a read-only Job); exit 0 "
    "nothing to do, 2 pending",
    "apply": "delete the CNI's objects in order, run the node cleaner on every node as "
    "a Job, remove node annotations and condition; exit 0 all clean, 3 not",
    "verify": "the API side checked again and every node verified by a Job; exit 0 "
    "clean, 2 residue, 3 a node could not be checked",
}


def _connection(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--cni", choices=footprints.names(), required=True, help="the CNI to remove"
    )
    p.add_argument(
        "--kubeconfig",
        metavar="FILE",
        help="kubeconfig (default $KUBECONFIG, ~/.kube/config, in-cluster)",
    )
    p.add_argument(
        "--context", help="kubeconfig context (default: its current context)"
    )
    p.add_argument(
        "--nodes",
        metavar="SELECTOR",
        help="only nodes matching this label selector (the CNI's API objects are cluster-wide)",
    )
    p.add_argument(
        "--json",
        action="store_true",
        help="print one JSON document (docs/cniscrub-json-schema.md)",
    )
    p.add_argument("-q", "--quiet", action="store_true", help="no progress on stderr")
    p.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="debug logging on stderr (every request)",
    )


def _jobs(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--image",
        default=None,
        help=f"the cleaner's image (default cniscrub:{__version__}, what "
        "deploy/Dockerfile builds)",
    )
    p.add_argument(
        "--namespace",
        default="kube-system",
        help="namespace of the Jobs (default kube-system)",
    )
    p.add_argument(
        "--parallel",
        type=int,
        default=10,
        metavar="N",
        help="at most N node Jobs at a time (default 10)",
    )
    p.add_argument(
        "--timeout",
        type=float,
        default=300.0,
        metavar="SECONDS",
        help="bound of every wait: the agent's pods gone, each node's Job (default 300)",
    )
    p.add_argument(
        "--keep-jobs",
        action="store_true",
        help="leave finished Jobs (they go after the manifest's ttlSecondsAfterFinished)",
    )


def add_parser(sub: Any) -> argparse.ArgumentParser:
    """The ``cluster`` subcommand and its own subcommands."""
    cluster = sub.add_parser(
        "cluster",
        help="remove a CNI from a whole cluster (API objects + a Job per node)",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    inner = cluster.add_subparsers(
        dest="cluster_command", required=True, metavar="COMMAND"
    )
    for name, text in COMMANDS.items():
        p = inner.add_parser(name, help=text, description=text)
        _connection(p)
        _jobs(p)
    inner.choices["plan"].add_argument(
        "--api-only",
        action="store_true",
        help="do not run the read-only plan Job on the nodes",
    )
    apply_ = inner.choices["apply"]
    apply_.add_argument(
        "--yes", action="store_true", help="do not ask for confirmation"
    )
    apply_.add_argument(
        "--dry-run",
        action="store_true",
        help="print every request and Job; change nothing",
    )
    return cluster


def run(args: argparse.Namespace) -> int:
    """Run ``cniscrub cluster <command>``; returns the exit code."""
    from cniscrub.cluster.api import Api
    from cniscrub.cluster.client import connect
    from cniscrub.cluster.jobs import default_image
    from cniscrub.cluster.progress import make_progress

    if args.parallel < 1:
        raise UsageError("--parallel must be at least 1")
    if args.timeout <= 0:
        raise UsageError("--timeout must be positive")
    args.image = args.image or default_image()
    api = Api(connect(args.kubeconfig, args.context, args.cluster_command))
    progress = make_progress(args.quiet)
    try:
        from cniscrub.cluster import commands

        return int(
            getattr(commands, f"cmd_{args.cluster_command}")(api, args, progress)
        )
    except KeyboardInterrupt:
        raise ClusterError(
            "interrupted: this run's node Jobs were deleted; run it again to finish "
            "(what is done stays done)"
        ) from None
    finally:
        progress.close()
        api.client.close()


def run_id() -> str:
    """A label value naming one run: UTC time and a random suffix."""
    import secrets
    import time

    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()) + "-" + secrets.token_hex(2)
