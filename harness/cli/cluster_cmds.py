"""``up``, ``status``, ``exec``, ``reboot``, ``stop``, ``start``, ``down``, ``gc`` and
``kubeconfig``: thin commands over the provider protocols (``--provider``)."""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict
from typing import Any

from harness.cli import flannel_impl
from harness.cli.nodes import DEFAULT_CLUSTER, UsageError, resolve, split_exec_args
from harness.providers import make_provider
from harness.providers.base import Cluster, ClusterSpec, Provider

EXEC_HELP = """\
NODE is a full node name (lab-worker, barx-worker2: it finds its cluster) or, with
--name (default: lab), a short one (worker, control-plane). --name and --timeout may
also follow NODE; everything after `--` is the command:
  cniscrub-lab exec barx-worker -- hostname
  cniscrub-lab exec worker --name barx -- ip -br link
"""


def _name_arg(
    p: argparse.ArgumentParser, default: str | None = DEFAULT_CLUSTER
) -> None:
    where = f"default: {default}" if default else "default: found from the node name"
    p.add_argument("--name", default=default, help=f"cluster name ({where})")


def _progress(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def provider(args: argparse.Namespace) -> Provider:
    return make_provider(args.provider)


def cmd_up(args: argparse.Namespace) -> int:
    spec = ClusterSpec(
        name=args.name,
        nodes=args.nodes,
        cni_bin_set=args.cni_bin_set,
        control_plane=not args.no_control_plane,
        extra=flannel_impl.extra(args),
    )
    prov = provider(args)
    _progress(f"Creating {prov.name} cluster {spec.name!r} ({spec.nodes} nodes) ...")
    start = time.perf_counter()
    cluster = prov.create(spec)
    _progress(f" ✓ ready in {time.perf_counter() - start:.2f}s")
    return _print_status(cluster, args.json)


def cluster_status(cluster: Cluster) -> dict[str, Any]:
    """The protocol's view of a cluster, plus what the provider adds (``details()``:
    sandbox: id, api_url, and per node running/boot/holder_pid)."""
    details = getattr(cluster, "details", None)
    extra: dict[str, Any] = details() if callable(details) else {}
    per_node = extra.pop("nodes", {})
    return {
        "name": cluster.name,
        **{k: v for k, v in extra.items() if k == "id"},
        "state_dir": str(cluster.state_dir),
        "kubeconfig": str(cluster.kubeconfig) if cluster.kubeconfig else None,
        **{k: v for k, v in extra.items() if k != "id"},
        "nodes": [
            {
                "name": n.name,
                "role": n.role,
                "address": n.address,
                **per_node.get(n.name, {}),
            }
            for n in cluster.nodes
        ],
    }


def _print_status(cluster: Cluster, as_json: bool) -> int:
    status = cluster_status(cluster)
    if as_json:
        print(json.dumps(status, indent=2))
        return 0
    print(f"cluster {status['name']}  state {status['state_dir']}")
    if status["kubeconfig"]:
        print(f"kubeconfig {status['kubeconfig']}  api {status.get('api_url')}")
    for n in status["nodes"]:
        state = {True: "running", False: "DOWN"}.get(n.get("running"), "")
        state += " (powered off)" if n.get("stopped") else ""
        boot = f" boot={n['boot']}" if "boot" in n else ""
        print(f"  {n['name']:<28} {n['role']:<14} {n['address']:<14} {state}{boot}")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    prov = provider(args)
    names = [args.name] if args.name else prov.list_clusters()
    if args.json:
        print(json.dumps([cluster_status(prov.get(n)) for n in names], indent=2))
        return 0
    if not names:
        print(f"no {prov.name} clusters")
    for name in names:
        _print_status(prov.get(name), False)
    return 0


def cmd_exec(args: argparse.Namespace) -> int:
    late, argv = split_exec_args(args.argv)
    name = late.get("name", args.name)
    timeout = float(late.get("timeout", args.timeout))  # type: ignore[arg-type]
    if not argv:
        raise UsageError("nothing to run: cniscrub-lab exec NODE -- CMD ...")
    _, node = resolve(provider(args), args.node, name)  # type: ignore[arg-type]
    result = node.exec(argv, check=False, timeout=timeout)
    sys.stdout.buffer.write(result.stdout_bytes)
    sys.stderr.buffer.write(result.stderr_bytes)
    return result.rc


def _power(verb: str) -> Any:
    def command(args: argparse.Namespace) -> int:
        _, node = resolve(provider(args), args.node, args.name)
        start = time.perf_counter()
        getattr(node, verb)()
        done = {"reboot": "rebooted", "stop": "powered off", "start": "started"}[verb]
        _progress(f" ✓ {node.name} {done} in {time.perf_counter() - start:.2f}s")
        return 0

    return command


def cmd_down(args: argparse.Namespace) -> int:
    prov = provider(args)
    existing = prov.list_clusters()
    for name in existing if args.all else [args.name]:
        prov.delete(name)
        _progress(
            f" ✓ deleted {name}"
            if name in existing
            else f"   no cluster {name} (nothing to do)"
        )
    return 0


def cmd_gc(args: argparse.Namespace) -> int:
    prov = provider(args)
    collect = getattr(prov, "gc", None)
    if collect is None:
        raise UsageError(f"provider {prov.name} keeps no state for gc to collect")
    report = collect(everything=args.all)
    if args.json:
        print(json.dumps(asdict(report), indent=2))
        return 0
    for name in report.clusters_removed:
        print(f"removed cluster {name}")
    for name in report.clusters_kept:
        print(f"kept running cluster {name}")
    if report.processes_killed:
        print(f"killed {len(report.processes_killed)} leftover process(es)")
    for line in report.unreadable:
        print(f"left alone (unreadable record): {line}")
    return 0


def cmd_kubeconfig(args: argparse.Namespace) -> int:
    cluster = provider(args).get(args.name)
    if cluster.kubeconfig is None:
        raise UsageError(
            f"cluster {args.name} has no control plane (made with --no-control-plane)"
        )
    print(cluster.kubeconfig)
    return 0


def _register_up(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("up", help="create a cluster")
    _name_arg(p)
    p.add_argument("--nodes", type=int, default=3, help="node count (default: 3)")
    p.add_argument(
        "--cni-bin-set",
        choices=["full", "kind"],
        default="full",
        help="/opt/cni/bin like a kubeadm node (full) or a kind node",
    )
    p.add_argument(
        "--no-control-plane",
        action="store_true",
        help="nodes only: no API stand-in, no kubelet emulation",
    )
    flannel_impl.add_option(p)
    p.add_argument("--json", action="store_true", help="print the status as JSON")
    p.set_defaults(func=cmd_up)


def _register_nodes(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "exec",
        help="run a command inside a node",
        description=EXEC_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _name_arg(p, default=None)
    p.add_argument("--timeout", type=float, default=600.0)
    p.add_argument("node", help="node name, or its short form (worker, control-plane)")
    p.add_argument("argv", nargs=argparse.REMAINDER, help="[--name N] -- CMD ARGS...")
    p.set_defaults(func=cmd_exec)
    for verb, text in (
        (
            "reboot",
            "reboot a node (kernel state and /run are lost; /etc /opt /var stay)",
        ),
        ("stop", "power a node off (every process stops; its disk is kept)"),
        ("start", "power a stopped node on (it boots like after a reboot)"),
    ):
        p = sub.add_parser(verb, help=text)
        _name_arg(p, default=None)
        p.add_argument("node", help="full node name, or a short one with --name")
        p.set_defaults(func=_power(verb))


def _register_misc(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("status", help="show clusters, nodes, addresses, state dir")
    p.add_argument("--name", default=None, help="one cluster (default: all)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_status)
    p = sub.add_parser("down", help="delete a cluster (idempotent)")
    _name_arg(p)
    p.add_argument("--all", action="store_true", help="delete every cluster")
    p.set_defaults(func=cmd_down)
    p = sub.add_parser("gc", help="remove what crashed runs left (by ownership marker)")
    p.add_argument("--all", action="store_true", help="also remove running clusters")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_gc)
    p = sub.add_parser("kubeconfig", help="print the path of the cluster's kubeconfig")
    _name_arg(p)
    p.set_defaults(func=cmd_kubeconfig)


REGISTER = [_register_up, _register_nodes, _register_misc]
