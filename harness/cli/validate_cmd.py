"""``cniscrub-lab validate RUNBOOK``: run a maintenance runbook (YAML or a plain shell
script) on a sandbox cluster with Flannel, workload pods and a foreign baseline, and
report per step and node what it removed, what of Flannel it left, what foreign state
it destroyed, and how pods fared. Exit codes: :mod:`harness.runbook.verdict`."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from harness import matrix
from harness.report import html, terminal
from harness.runbook import loader, runner
from harness.runbook.verdict import Verdict

EPILOG = """\
exit codes (bits add up: 24 = Flannel left + foreign destroyed):
  0   clean: nothing of Flannel left, nothing foreign destroyed, every expect held
  1   the validation could not run (cluster, tooling)
  2   bad command line, or a runbook that cannot be read (file:line: step ...)
  8   Flannel objects are left on a node or in the API
  16  foreign objects were destroyed or changed
  32  an expect step did not hold

examples:
  cniscrub-lab validate fixtures/runbooks/article-runbook.sh --report report.html
  cniscrub-lab validate fixtures/runbooks/flannel-to-kube-router.yaml --json
  cniscrub-lab validate my-steps.sh --nodes 2 --baseline my-node-extras.sh --keep
"""


def cmd_validate(args: argparse.Namespace) -> int:
    try:
        runbook = loader.load(Path(args.runbook))
    except loader.RunbookError as exc:
        print(
            f"cniscrub-lab validate: the runbook cannot be run as written:\n{exc}",
            file=sys.stderr,
        )
        return int(Verdict.USAGE)
    if args.baseline and not Path(args.baseline).is_file():
        print(
            f"cniscrub-lab validate: --baseline {args.baseline}: no such file",
            file=sys.stderr,
        )
        return int(Verdict.USAGE)
    options = runner.Options(
        nodes=args.nodes,
        flannel_version=args.flannel_version,
        runtime=matrix.runtime_name(args.runtime),
        baseline=Path(args.baseline) if args.baseline else None,
        provider=args.provider,
        name=args.name,
        keep=args.keep,
    )
    try:
        validation = runner.validate(runbook, options, terminal.LiveProgress())
    except Exception as exc:  # the validation itself failed: say so, exit 1
        if args.json:
            print(
                json.dumps(
                    {"verdict": "ERROR", "exit_code": 1, "error": str(exc)}, indent=2
                )
            )
        print(f"cniscrub-lab validate: could not validate: {exc}", file=sys.stderr)
        return int(Verdict.ERROR)
    report = ""
    if args.report:
        report = str(html.write(validation, Path(args.report)))
    if args.json:
        print(json.dumps({**validation.as_json(), "report": report or None}, indent=2))
    else:
        terminal.summary(validation, report=report)
    if args.keep:
        print(
            f"The cluster is still up: cniscrub-lab status --name {args.name}; "
            f"cniscrub-lab down --name {args.name}",
            file=sys.stderr,
        )
    return int(validation.verdict)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "validate",
        help="run a maintenance runbook on a sandbox cluster and report residue, "
        "collateral damage and pod health",
        description="Build a sandbox cluster with Flannel, workload pods on every node and "
        "a realistic foreign baseline (kube-proxy, an SSH firewall rule, podman's CNI config "
        "and lease, Docker's chains, a user bridge and route), run RUNBOOK step by step with "
        "a snapshot of every node after each step, and report the Flannel objects removed "
        "and left, the foreign objects destroyed, and the pods' sandbox outcomes. RUNBOOK "
        "is the YAML format (runbook.schema.json) or a plain shell script: its lines run on "
        "every node in order, kubectl lines once against the cluster.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "runbook", metavar="RUNBOOK", help="a runbook .yaml or a shell script"
    )
    p.add_argument("--nodes", type=int, default=3, help="cluster size (default 3)")
    p.add_argument(
        "--flannel-version",
        default=matrix.DEFAULT_FLANNEL_VERSION,
        choices=matrix.flannel_versions(),
        help=f"Flannel installed before the runbook (default {matrix.DEFAULT_FLANNEL_VERSION})",
    )
    p.add_argument(
        "--runtime",
        default="containerd",
        choices=sorted({*matrix.RUNTIMES, *matrix.RUNTIME_ALIASES}),
        help="the runtime whose CNI behaviour and error wording nodes follow",
    )
    p.add_argument(
        "--baseline",
        metavar="FILE",
        help="your own foreign state: a shell script run as root on every node before Flannel",
    )
    p.add_argument("--report", metavar="FILE", help="write the HTML report there")
    p.add_argument(
        "--json", action="store_true", help="print the findings as one JSON document"
    )
    p.add_argument(
        "--keep", action="store_true", help="leave the cluster up afterwards"
    )
    p.add_argument(
        "--name", default="validate", help="cluster name (default: validate)"
    )
    p.set_defaults(func=cmd_validate)
