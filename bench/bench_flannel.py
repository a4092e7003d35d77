"""Benchmark of the sandbox control plane and Flannel emulation (issues #3 and #4).

Prints a table; asserts nothing. Rows:

* pod time-to-Running on a node with a working bridge conflist (real CNI ADD), median
  of N pods created one after another;
* 3-node cluster up (with control plane) + Flannel installed (``kubectl apply -f`` until
  every node is Ready with FlannelIsUp) + 6 pods Running;
* ``cniscrub-lab reproduce`` end to end (a subprocess, as a user runs it);
* per Flannel version: installed on a fresh 3-node cluster, and installed again after
  ``kubectl delete -f`` (what every lifecycle scenario does).

    python bench/bench_flannel.py [--pods 10] [--version v0.27.3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time

from kubernetes import client

from harness import flannel_install
from harness.kube import api_client, kubectl
from harness.matrix import DEFAULT_FLANNEL_VERSION, flannel_versions
from harness.providers import make_provider
from harness.providers.base import ClusterSpec, Provider

CONFLIST = json.dumps(
    {
        "cniVersion": "0.3.1",
        "name": "cbr0",
        "plugins": [
            {
                "type": "bridge",
                "bridge": "cni0",
                "isGateway": True,
                "ipam": {
                    "type": "host-local",
                    "ranges": [[{"subnet": "10.244.1.0/24"}]],
                },
            }
        ],
    }
)


def pod(name: str, node: str | None = None) -> dict:
    spec: dict = {
        "terminationGracePeriodSeconds": 1,
        "containers": [{"name": "c", "image": "busybox", "command": ["sleep", "3600"]}],
    }
    if node:
        spec["nodeName"] = node
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": spec}


def wait_running(core: client.CoreV1Api, names: list[str], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        items = core.list_namespaced_pod("default").items
        phase = {p.metadata.name: p.status.phase for p in items}
        if all(phase.get(n) == "Running" for n in names):
            return
        time.sleep(0.005)
    raise TimeoutError(f"pods {names} not Running after {timeout}s")


def time_to_running(provider: Provider, count: int) -> list[float]:
    cluster = provider.create(ClusterSpec(name="bench-pod", nodes=2))
    try:
        node = cluster.nodes[1]
        node.write_file("/etc/cni/net.d/10-bridge.conflist", CONFLIST)
        core = client.CoreV1Api(api_client(cluster))
        out = []
        for i in range(count):
            start = time.perf_counter()
            core.create_namespaced_pod("default", pod(f"p{i}", node.name))
            wait_running(core, [f"p{i}"])
            out.append(time.perf_counter() - start)
        return out
    finally:
        provider.delete("bench-pod")


def flannel_and_pods(
    provider: Provider, version: str, extra: dict[str, str] | None = None
) -> dict[str, float]:
    """3-node cluster up, Flannel installed, 6 pods Running (``extra``: e.g.
    ``{"flannel_impl": "real"}``)."""
    t0 = time.perf_counter()
    cluster = provider.create(ClusterSpec(name="bench-fl", nodes=3, extra=extra or {}))
    try:
        t1 = time.perf_counter()
        flannel_install.install(cluster, flannel_install.manifest_path(version))
        t2 = time.perf_counter()
        core = client.CoreV1Api(api_client(cluster))
        names = [f"web-{i}" for i in range(6)]
        for name in names:
            core.create_namespaced_pod("default", pod(name))
        wait_running(core, names)
        t3 = time.perf_counter()
        kubectl(cluster, "get", "nodes")
        return {"up": t1 - t0, "flannel": t2 - t1, "pods": t3 - t2, "total": t3 - t0}
    finally:
        provider.delete("bench-fl")


def install_per_version(provider: Provider) -> dict[str, tuple[float, float]]:
    """version -> (first install, install again after ``kubectl delete -f``)."""
    cluster = provider.create(ClusterSpec(name="bench-ver", nodes=3))
    out = {}
    try:
        for version in flannel_versions():
            manifest = flannel_install.manifest_path(version)
            t0 = time.perf_counter()
            flannel_install.install(cluster, manifest)
            t1 = time.perf_counter()
            flannel_install.uninstall(cluster, manifest)
            t2 = time.perf_counter()
            flannel_install.install(cluster, manifest)
            out[version] = (t1 - t0, time.perf_counter() - t2)
            flannel_install.uninstall(cluster, manifest)
        return out
    finally:
        provider.delete("bench-ver")


def reproduce_seconds(version: str) -> float:
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "harness.cli.main", "reproduce", "--name", "bench-repro",
         "--flannel-version", version, "--json"],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pods", type=int, default=10)
    parser.add_argument(
        "--version", default=DEFAULT_FLANNEL_VERSION, choices=flannel_versions()
    )
    args = parser.parse_args()
    provider = make_provider("sandbox")
    ttr = time_to_running(provider, args.pods)
    print("  measured pod time-to-Running", file=sys.stderr)
    fl = flannel_and_pods(provider, args.version)
    print("  measured flannel install", file=sys.stderr)
    rep = reproduce_seconds(args.version)
    per_version = install_per_version(provider)
    print(f"\nsandbox control plane and Flannel {args.version}")
    print(f"{'measurement':<58} {'seconds':>8}")
    rows = [
        (
            f"pod time-to-Running, median of {args.pods} (real CNI ADD)",
            statistics.median(ttr),
        ),
        (f"pod time-to-Running, max of {args.pods}", max(ttr)),
        ("3-node cluster up (with control plane)", fl["up"]),
        ("Flannel installed (apply -f until FlannelIsUp on all nodes)", fl["flannel"]),
        ("6 pods Running after that", fl["pods"]),
        ("cluster + Flannel + 6 pods Running", fl["total"]),
        ("cniscrub-lab reproduce end to end", rep),
    ]
    for label, value in rows:
        print(f"{label:<58} {value:>8.2f}")
    print("\nFlannel install until up on 3 nodes, per version (seconds)")
    print(f"{'version':<10} {'first':>8} {'after delete -f':>16}")
    for version, (first, again) in per_version.items():
        print(f"{version:<10} {first:>8.2f} {again:>16.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
