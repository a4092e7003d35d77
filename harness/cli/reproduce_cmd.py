"""``cniscrub-lab reproduce``: install Flannel, start pods, ``kubectl delete -f``,
reboot a node, show the kubelet event with the exact runtime message, explain it, list
the residue (and with ``--clean`` remove it with the shipped cleaner)."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from harness import flannel_install, matrix, reproduce
from harness.cli import flannel_impl
from harness.cli.cluster_cmds import provider
from harness.providers.base import ClusterSpec


def _step(what: str, fn: Callable[[], Any]) -> Any:
    start = time.perf_counter()
    print(f" • {what} ...", file=sys.stderr, flush=True)
    result = fn()
    print(
        f" ✓ {what} ({time.perf_counter() - start:.1f}s)", file=sys.stderr, flush=True
    )
    return result


def cmd_reproduce(args: argparse.Namespace) -> int:
    manifest = (
        Path(args.manifest)
        if args.manifest
        else flannel_install.manifest_path(args.flannel_version)
    )
    version = flannel_install.manifest_version(manifest)
    runtime = matrix.runtime_name(args.runtime)
    prov = provider(args)
    prov.delete(args.name)
    started = time.perf_counter()
    choices = flannel_impl.prepare(manifest, args.flannel_impl)
    spec = ClusterSpec(
        name=args.name,
        nodes=args.nodes,
        runtime=runtime,
        extra=flannel_impl.extra(args),
    )
    cluster = _step(
        f"Creating {prov.name} cluster {args.name!r} ({args.nodes} nodes, {runtime})",
        lambda: prov.create(spec),
    )
    r = reproduce.Reproduction(cluster, manifest, version, runtime)
    try:
        _step(
            f"Installing Flannel {version} (kubectl apply -f {manifest.name})",
            lambda: flannel_install.install(cluster, manifest),
        )
        _step("Starting pods", lambda: reproduce.start_pods(r))
        pair: tuple[str, str] | None = None
        if sum(n.role == "worker" for n in cluster.nodes) >= 2:
            pair = _step(
                "Checking pod traffic across nodes",
                lambda: reproduce.cross_node_ping(r),
            )
        else:
            print(
                " - no cross-node traffic check: it needs two workers (--nodes 3)",
                file=sys.stderr,
            )
        _step(
            f"Removing Flannel the usual way (kubectl delete -f {manifest.name})",
            lambda: flannel_install.uninstall(cluster, manifest),
        )
        _step("Rebooting a worker", lambda: reproduce.reboot_a_worker(r))
        _step(
            "Waiting for the kubelet's event",
            lambda: reproduce.wait_for_sandbox_error(r),
        )
        reproduce.explain(r)
        reproduce.residue(r)
        reproduce.cluster_residue(r)
        if args.clean:
            reproduce.clean(r, lambda m: print(m, file=sys.stderr, flush=True))
        elapsed = time.perf_counter() - started
        impl = flannel_impl.as_json(choices)
        if args.json:
            print(
                json.dumps(
                    {**r.as_json(), **impl, "seconds": round(elapsed, 2)}, indent=2
                )
            )
        else:
            render(r, pair, elapsed)
            print(f"Flannel that ran: {impl['flannel_impl_detail']}")
        return 0
    finally:
        if not args.keep:
            prov.delete(args.name)
        else:
            print(
                f"\nThe cluster is still up: KUBECONFIG={cluster.kubeconfig} kubectl get pods -A; "
                f"cniscrub-lab exec --name {args.name} {r.rebooted or 'worker'} -- sh; "
                f"cniscrub-lab down --name {args.name}",
                file=sys.stderr,
            )


def render(
    r: reproduce.Reproduction, pair: tuple[str, str] | None, elapsed: float
) -> None:
    if pair:
        print(
            f"\nBefore: pod {pair[0]} reached pod {pair[1]} on another node through flannel.1."
        )
    print(
        f"\nAfter `kubectl delete -f` and a reboot of {r.rebooted}, new pod sandboxes fail:\n"
    )
    print(f"  Warning  FailedCreatePodSandBox  kubelet  {r.event}\n")
    print("Why:")
    print(
        f"  /etc/cni/net.d on {r.rebooted} holds {', '.join(r.conf_files) or 'nothing'}; "
        "the runtime "
        "sorts the files and uses the first valid one."
    )
    if r.first_conf:
        print(
            f"  {r.first_conf} (left behind: `kubectl delete -f` removes only API objects) still "
            f"names plugin(s) {', '.join(r.first_conf_plugins)}."
        )
    print(
        "  /opt/cni/bin/flannel is still there, and it reads /run/flannel/subnet.env, which "
        "flanneld wrote into /run: a tmpfs, emptied by the reboot, and no flanneld runs any "
        "more to write it again."
    )
    actions = r.plan.get("actions", [])
    print(
        f"\nFlannel residue on {r.rebooted} "
        f"(cniscrub plan --cni flannel: {len(actions)} action(s)):"
    )
    for a in actions:
        print(f"  - {a['target']}")
    for name, plan in r.plans.items():
        if name != r.rebooted:
            kinds = Counter(a["kind"] for a in plan.get("actions", []))
            summary = ", ".join(f"{n} {k}" for k, n in sorted(kinds.items()))
            print(f"  {name} (not rebooted): {summary or 'nothing'}")
    for a in r.plan.get("left_alone", []):
        print(f"  (left alone) {a.get('target', a)}: {a.get('why', '')}")
    if r.cluster_residue:
        nodes = len({item.split()[0] for item in r.cluster_residue})
        print(
            f"\nCluster side, on {nodes} Node objects (kubectl delete -f does not touch them):"
        )
        for item in sorted({" ".join(i.split()[1:]) for i in r.cluster_residue}):
            print(f"  - {item}")
    if r.cleaned:
        print("\nCleaned with the shipped cleaner on every node:")
        for node, res in r.cleaned.items():
            print(
                f"  {node}: cniscrub apply exit {res['apply_rc']}, verify exit {res['verify_rc']}"
            )
        print(
            "  The nodes now have no CNI config (NotReady: cni plugin not initialized) until the "
            "next CNI is installed."
        )
    else:
        print(
            "\nRemove it with: cniscrub apply --cni flannel --yes   (on each node; "
            "`cniscrub-lab reproduce --clean` does that here)"
        )
    print(f"\n({r.version}, runtime {r.runtime}, {elapsed:.1f}s)")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "reproduce",
        help="reproduce the 'loadFlannelSubnetEnv failed' sandbox error (and clean it)",
        description="Install Flannel on a sandbox cluster, start pods, remove Flannel with "
        "`kubectl delete -f`, reboot a node and show the kubelet's FailedCreatePodSandBox event "
        "with the exact runtime message; explain it and list the residue.",
    )
    p.add_argument("--name", default="repro", help="cluster name (default: repro)")
    p.add_argument("--nodes", type=int, default=3)
    p.add_argument(
        "--flannel-version",
        default=matrix.DEFAULT_FLANNEL_VERSION,
        choices=matrix.flannel_versions(),
        help=f"manifest to install (default {matrix.DEFAULT_FLANNEL_VERSION})",
    )
    p.add_argument(
        "--manifest", help="your own kube-flannel.yml instead of a bundled one"
    )
    p.add_argument(
        "--runtime",
        default="containerd",
        choices=sorted({*matrix.RUNTIMES, *matrix.RUNTIME_ALIASES}),
        help="runtime wording: containerd (1.7), crio, dockershim, ...",
    )
    p.add_argument(
        "--clean",
        action="store_true",
        help="then remove the residue with `cniscrub apply` on every node and verify",
    )
    p.add_argument(
        "--keep", action="store_true", help="leave the cluster up for exploration"
    )
    flannel_impl.add_option(p)
    p.add_argument("--json", action="store_true", help="print the findings as JSON")
    p.set_defaults(func=cmd_reproduce)
