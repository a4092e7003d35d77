"""Benchmark of the sandbox provider: cluster up/down time and memory (issue #2).

Prints a table; asserts nothing. Memory is measured three ways after the cluster is up:
the summed PSS of every process the cluster owns (holders, keepers, fabric, control
plane), their summed RSS, and the drop in the kernel's MemAvailable (which also counts
namespaces, links and the tmpfs state).

    python bench/bench_sandbox.py [--repeat 5] [--big 100] [--control-plane]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

from harness.providers import make_provider
from harness.providers.base import ClusterSpec, Provider
from harness.providers.sandbox.teardown import marked_processes


def mem_available_kib() -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemAvailable:"):
            return int(line.split()[1])
    raise RuntimeError("no MemAvailable in /proc/meminfo")


def cluster_memory_kib(cluster_id: str) -> tuple[int, int]:
    pss = rss = 0
    for pid, cid in marked_processes().items():
        if cid != cluster_id:
            continue
        try:
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    pss += int(line.split()[1])
                elif line.startswith("Rss:"):
                    rss += int(line.split()[1])
        except OSError:
            continue
    return pss, rss


def measure(provider: Provider, nodes: int, control_plane: bool) -> dict[str, float]:
    name = f"bench{nodes}"
    provider.delete(name)
    before = mem_available_kib()
    t0 = time.perf_counter()
    cluster = provider.create(
        ClusterSpec(name=name, nodes=nodes, control_plane=control_plane)
    )
    up = time.perf_counter() - t0
    pss, rss = cluster_memory_kib(cluster.id)
    used = before - mem_available_kib()
    t1 = time.perf_counter()
    cluster.nodes[-1].reboot()
    reboot = time.perf_counter() - t1
    t2 = time.perf_counter()
    provider.delete(name)
    down = time.perf_counter() - t2
    return {
        "up": up,
        "down": down,
        "reboot": reboot,
        "pss": pss,
        "rss": rss,
        "used": used,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument(
        "--big", type=int, default=100, help="size of the large cluster"
    )
    parser.add_argument("--control-plane", action="store_true")
    args = parser.parse_args()
    provider = make_provider("sandbox")  # control plane: ClusterSpec.control_plane
    rows = []
    for nodes, repeat in ((3, args.repeat), (args.big, 1)):
        runs = [measure(provider, nodes, args.control_plane) for _ in range(repeat)]
        print(f"  measured {nodes} nodes x{repeat}", file=sys.stderr)
        rows.append(
            (nodes, repeat, {k: statistics.median(r[k] for r in runs) for k in runs[0]})
        )
    print(
        f"\nsandbox provider ({'with' if args.control_plane else 'without'} control plane)"
    )
    print(
        f"{'nodes':>6} {'runs':>5} {'up s':>8} {'down s':>8} {'reboot s':>9} "
        f"{'PSS MiB':>8} {'RSS MiB':>8} {'MemAvail drop MiB':>18}"
    )
    for nodes, repeat, m in rows:
        print(
            f"{nodes:>6} {repeat:>5} {m['up']:>8.2f} {m['down']:>8.2f} {m['reboot']:>9.2f} "
            f"{m['pss'] / 1024:>8.0f} {m['rss'] / 1024:>8.0f} {m['used'] / 1024:>18.0f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
