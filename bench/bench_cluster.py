"""Benchmark of ``cniscrub cluster apply`` (issue 12): a sandbox cluster with Flannel
cleaned end to end through the API stand-in and one Job per node (``--parallel``),
beside the same node work done directly: Flannel installed again, its manifest deleted
(``kubectl delete -f``), then the node cleaner run in each node one after the other,
without the API. Their ratio is what the orchestration costs.

Prints a table; asserts nothing (the target is < 60 s for 100 nodes at --parallel 20).

    python bench/bench_cluster.py [--nodes 100] [--parallel 20]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from harness.flannel_install import install
from harness.kube import kubectl, kubectl_json
from harness.matrix import DEFAULT_FLANNEL_VERSION, manifest_path
from harness.providers import make_provider
from harness.providers.base import Cluster, ClusterSpec
from harness.wait import until

CNISCRUB = str(Path(sys.executable).with_name("cniscrub"))
NAME = "bench-cluster"


def cluster_apply(cluster: Cluster, parallel: int) -> tuple[float, dict[str, Any]]:
    started = time.perf_counter()
    proc = subprocess.run(
        [
            *(CNISCRUB, "cluster", "apply", "--cni", "flannel", "--yes", "--json"),
            *("-q", "--parallel", str(parallel), "--timeout", "600"),
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "KUBECONFIG": str(cluster.kubeconfig)},
        check=False,
    )
    took = time.perf_counter() - started
    doc = json.loads(proc.stdout)
    if proc.returncode != 0:
        print(
            f"  cluster apply exited {proc.returncode}: {proc.stderr[-2000:]}",
            file=sys.stderr,
        )
    return took, doc


def kubectl_delete(cluster: Cluster, manifest: Path) -> None:
    """What users do, and wait until the agent's pods are gone (as cluster apply does
    before its Jobs), so both runs do the same node work."""
    kubectl(cluster, "delete", "-f", str(manifest), "--ignore-not-found", timeout=300)

    def gone() -> bool:
        pods = kubectl_json(cluster, "get", "pods", "-A", "-l", "app=flannel")
        return not pods["items"]

    until(gone, timeout=600, interval=1.0, what="Flannel's pods gone")


def direct_runs(cluster: Cluster) -> tuple[float, list[float], int]:
    """The node cleaner in each node, one after the other (the same node work)."""
    times, clean = [], 0
    started = time.perf_counter()
    for node in cluster.nodes:
        t = time.perf_counter()
        result = cluster.run_cleaner(
            node, ["apply", "--cni", "flannel", "--yes", "--json"]
        )
        times.append(time.perf_counter() - t)
        clean += result.rc == 0
    return time.perf_counter() - started, times, clean


def _cells(values: tuple[object, ...]) -> str:
    return " ".join(
        f"{v:>6.2f}" if isinstance(v, float) else f"{v!s:>6}" for v in values
    )


def _row(what: str, total: float, clean: int, times: list[float]) -> None:
    q = statistics.quantiles(times, n=10) if len(times) > 1 else times * 9
    spread = (min(times), statistics.median(times), q[8], max(times))
    print(f"{what:<36} {total:>8.1f} {clean:>6}  {'':>11} " + _cells(spread))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=100)
    parser.add_argument("--parallel", type=int, default=20)
    args = parser.parse_args()
    provider = make_provider("sandbox")
    provider.delete(NAME)
    manifest = manifest_path(DEFAULT_FLANNEL_VERSION)
    cluster = provider.create(ClusterSpec(name=NAME, nodes=args.nodes))
    try:
        t = time.perf_counter()
        install(cluster, manifest, timeout=600)
        print(
            f"  Flannel up on {args.nodes} nodes in {time.perf_counter() - t:.1f} s",
            file=sys.stderr,
        )
        total, doc = cluster_apply(cluster, args.parallel)
        steps = {s["kind"]: s.get("result") or {} for s in doc["steps"]}
        jobs_phase = float((steps.get("run-jobs") or {}).get("seconds") or 0.0)
        waited = float((steps.get("wait-pods") or {}).get("seconds") or 0.0)
        per_node = [
            float(r["seconds"]) for r in doc["node_results"] if r["seconds"] is not None
        ]
        clean = sum(r["verdict"] == "clean" for r in doc["node_results"])
        install(cluster, manifest, timeout=600)
        kubectl_delete(cluster, manifest)
        seq_total, seq_times, seq_clean = direct_runs(cluster)
    finally:
        provider.delete(NAME)
    print(
        f"\ncniscrub cluster apply: {args.nodes} sandbox nodes, --parallel {args.parallel}"
    )
    head = ("run", "total s", "clean", "min", "median", "p90", "max")
    print(f"{head[0]:<36} {head[1]:>8} {head[2]:>6}  per node s: " + _cells(head[3:]))
    _row("cluster apply (API + node Jobs)", total, clean, per_node)
    print(f"{'  of which: agent pods stopping':<36} {waited:>8.1f}")
    print(f"{'            the node Jobs':<36} {jobs_phase:>8.1f}")
    _row("node cleaner in each node, in turn", seq_total, seq_clean, seq_times)
    print(
        f"\norchestration cost: per node (median Job / median direct run) "
        f"{statistics.median(per_node) / statistics.median(seq_times):.1f}x; "
        f"whole run (cluster apply / sequential node work) {total / seq_total:.2f}x "
        f"(target: cluster apply < 60 s: {'met' if total < 60 else 'NOT met'})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
