"""``up``, ``status``, ``exec``, ``reboot``, ``down``, ``gc`` and ``kubeconfig``."""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict
from typing import Any

from harness.providers.base import ClusterSpec
from harness.providers.sandbox import SandboxCluster, SandboxProvider, gc
from harness.providers.sandbox.state import SandboxError


def _name_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--name", default="lab", help="cluster name (default: lab)")


def _progress(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def provider() -> SandboxProvider:
    from harness.emulation.controlplane.hook import install

    prov = SandboxProvider()
    install(prov)
    return prov


def resolve_node(cluster: SandboxCluster, name: str) -> str:
    names = {n.name for n in cluster.nodes}
    if name in names:
        return name
    if f"{cluster.name}-{name}" in names:
        return f"{cluster.name}-{name}"
    raise SandboxError(
        f"no node {name!r} in cluster {cluster.name} ({', '.join(sorted(names))})"
    )


def cmd_up(args: argparse.Namespace) -> int:
    spec = ClusterSpec(
        name=args.name,
        nodes=args.nodes,
        cni_bin_set=args.cni_bin_set,
        control_plane=not args.no_control_plane,
    )
    _progress(f"Creating sandbox cluster {spec.name!r} ({spec.nodes} nodes) ...")
    start = time.perf_counter()
    cluster = provider().create(spec)
    _progress(f" ✓ ready in {time.perf_counter() - start:.2f}s")
    return _print_status(cluster, args.json)


def cluster_status(cluster: SandboxCluster) -> dict[str, Any]:
    return {
        "name": cluster.name,
        "id": cluster.id,
        "state_dir": str(cluster.state_dir),
        "kubeconfig": str(cluster.kubeconfig) if cluster.kubeconfig else None,
        "api_url": cluster.record.api_url or None,
        "nodes": [
            {
                "name": n.name,
                "role": n.role,
                "address": n.address,
                "running": bool(n.record.holder and n.record.holder.alive()),
                "boot": n.record.boot,
                "holder_pid": n.record.holder.pid if n.record.holder else None,
            }
            for n in cluster.nodes
        ],
    }


def _print_status(cluster: SandboxCluster, as_json: bool) -> int:
    status = cluster_status(cluster)
    if as_json:
        print(json.dumps(status, indent=2))
        return 0
    print(f"cluster {status['name']}  state {status['state_dir']}")
    if status["kubeconfig"]:
        print(f"kubeconfig {status['kubeconfig']}  api {status['api_url']}")
    for n in status["nodes"]:
        state = "running" if n["running"] else "DOWN"
        print(
            f"  {n['name']:<28} {n['role']:<14} {n['address']:<14} {state} boot={n['boot']}"
        )
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    prov = SandboxProvider()
    names = [args.name] if args.name else prov.list_clusters()
    if args.json:
        print(json.dumps([cluster_status(prov.get(n)) for n in names], indent=2))
        return 0
    if not names:
        print("no sandbox clusters")
    for name in names:
        _print_status(prov.get(name), False)
    return 0


def cmd_exec(args: argparse.Namespace) -> int:
    cluster = SandboxProvider().get(args.name)
    node = cluster.node(resolve_node(cluster, args.node))
    argv = args.argv[1:] if args.argv[:1] == ["--"] else args.argv
    if not argv:
        raise SandboxError("nothing to run: cniscrub-lab exec NODE -- CMD ...")
    result = node.exec(argv, check=False, timeout=args.timeout)
    sys.stdout.buffer.write(result.stdout_bytes)
    sys.stderr.buffer.write(result.stderr_bytes)
    return result.rc


def cmd_reboot(args: argparse.Namespace) -> int:
    cluster = SandboxProvider().get(args.name)
    name = resolve_node(cluster, args.node)
    start = time.perf_counter()
    cluster.reboot(name)
    _progress(f" ✓ {name} rebooted in {time.perf_counter() - start:.2f}s")
    return 0


def cmd_down(args: argparse.Namespace) -> int:
    prov = SandboxProvider()
    names = prov.list_clusters() if args.all else [args.name]
    for name in names:
        existed = prov.delete(name)
        _progress(
            f" ✓ deleted {name}" if existed else f"   no cluster {name} (nothing to do)"
        )
    return 0


def cmd_gc(args: argparse.Namespace) -> int:
    report = gc.collect(everything=args.all)
    if args.json:
        print(json.dumps(asdict(report), indent=2))
    else:
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
    cluster = SandboxProvider().get(args.name)
    if cluster.kubeconfig is None:
        raise SandboxError(
            f"cluster {args.name} has no control plane (made with --no-control-plane)"
        )
    print(cluster.kubeconfig)
    return 0


def _register_up(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("up", help="create a sandbox cluster")
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
    p.add_argument("--json", action="store_true", help="print the status as JSON")
    p.set_defaults(func=cmd_up)


def _register_misc(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("status", help="show clusters, nodes, addresses, state dir")
    p.add_argument("--name", default=None, help="one cluster (default: all)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_status)
    p = sub.add_parser("exec", help="run a command inside a node")
    _name_arg(p)
    p.add_argument("--timeout", type=float, default=600.0)
    p.add_argument("node", help="node name, or its short form (worker, control-plane)")
    p.add_argument("argv", nargs=argparse.REMAINDER, help="-- CMD ARGS...")
    p.set_defaults(func=cmd_exec)
    p = sub.add_parser("reboot", help="reboot a node (kernel state and /run are lost)")
    _name_arg(p)
    p.add_argument("node")
    p.set_defaults(func=cmd_reboot)
    p = sub.add_parser("down", help="delete a cluster (idempotent)")
    _name_arg(p)
    p.add_argument("--all", action="store_true", help="delete every sandbox cluster")
    p.set_defaults(func=cmd_down)
    p = sub.add_parser("gc", help="remove what crashed runs left (by ownership marker)")
    p.add_argument("--all", action="store_true", help="also remove running clusters")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_gc)
    p = sub.add_parser("kubeconfig", help="print the path of the cluster's kubeconfig")
    _name_arg(p)
    p.set_defaults(func=cmd_kubeconfig)


REGISTER = [_register_up, _register_misc]
