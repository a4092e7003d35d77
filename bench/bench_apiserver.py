"""Benchmark of the Kubernetes API stand-in through the official client (issue #3).

Prints a table; asserts nothing. Latency of get, list and patch (N each, after a
warm-up), then 1000 sequential mixed requests in batches of 200 to show that latency
does not grow with the number of requests served (kmock's failure mode). Target from
the issue: p50 under 5 ms.

    python bench/bench_apiserver.py [-n 500] [--pods 10] [--in-process]

By default the server runs as ``python -m harness.emulation.apiserver`` in its own
process (as in a sandbox control plane); ``--in-process`` serves it from a thread of
the benchmark process instead (client and server then share the GIL).
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from kubernetes import client, config

from harness.emulation.apiserver.kubeconfig import write_kubeconfig
from harness.emulation.apiserver.threaded import ThreadedServer


def timed(func: Callable[[], Any], n: int) -> list[float]:
    samples = []
    for _ in range(n):
        start = time.perf_counter()
        func()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def row(label: str, samples: list[float]) -> str:
    return (
        f"{label:<28} {len(samples):>5} {statistics.median(samples):>8.2f} "
        f"{pct(samples, 0.95):>8.2f} {statistics.fmean(samples):>8.2f}"
    )


@contextlib.contextmanager
def served(in_process: bool) -> Iterator[str]:
    if in_process:
        with ThreadedServer() as server:
            yield server.url
        return
    proc = subprocess.Popen(
        [sys.executable, "-m", "harness.emulation.apiserver", "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        yield proc.stdout.readline().strip()
    finally:
        proc.terminate()
        proc.wait(10)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=500, help="requests per operation")
    parser.add_argument("--pods", type=int, default=10, help="pods in the listed ns")
    parser.add_argument("--in-process", action="store_true", help="server in a thread")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, served(args.in_process) as url:
        kubeconfig = write_kubeconfig(Path(tmp) / "kubeconfig", url, "bench")
        api = config.new_client_from_config(config_file=str(kubeconfig))
        core = client.CoreV1Api(api)
        core.create_node(client.V1Node(metadata=client.V1ObjectMeta(name="node-a")))
        for i in range(args.pods):
            core.create_namespaced_pod(
                "default",
                client.V1Pod(
                    metadata=client.V1ObjectMeta(name=f"p{i}", labels={"app": "bench"}),
                    spec=client.V1PodSpec(
                        node_name="node-a",
                        containers=[client.V1Container(name="c", image="busybox")],
                    ),
                ),
            )
        counter = iter(range(10**9))

        def get() -> None:
            core.read_node("node-a")

        def lst() -> None:
            core.list_namespaced_pod("default", label_selector="app=bench")

        def lst_raw() -> None:
            core.list_namespaced_pod(
                "default", label_selector="app=bench", _preload_content=False
            ).read()

        def patch() -> None:
            core.patch_node_status(
                "node-a",
                {
                    "status": {
                        "conditions": [
                            {
                                "type": "Ready",
                                "status": "True",
                                "reason": f"r{next(counter)}",
                            }
                        ]
                    }
                },
            )

        timed(get, 50)  # warm-up: connection pool, first deserialisation
        results = {
            "get node": timed(get, args.n),
            f"list {args.pods} pods (label sel.)": timed(lst, args.n),
            "  same, no model decoding": timed(lst_raw, args.n),
            "patch node status (SMP)": timed(patch, args.n),
        }
        ops = [get, lst, patch]
        mixed = [t for i in range(1000) for t in timed(ops[i % 3], 1)]
        api.close()
    where = "a thread of this process" if args.in_process else "its own process"
    print(f"Kubernetes API stand-in via kubernetes client (ms), server in {where}")
    print(f"{'operation':<28} {'n':>5} {'p50':>8} {'p95':>8} {'mean':>8}")
    for label, samples in results.items():
        print(row(label, samples))
    print("1000 sequential mixed get/list/patch requests, by batch:")
    for start in range(0, 1000, 200):
        print(row(f"  requests {start + 1}-{start + 200}", mixed[start : start + 200]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
