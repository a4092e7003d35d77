"""Run the Kubernetes API stand-in on its own (a test stand-in, never a product
component): ``python -m harness.emulation.apiserver --port 0 --kubeconfig PATH``.

Prints the server URL on one line once it accepts connections, then serves until
SIGINT or SIGTERM. Handy for debugging with kubectl and for tests.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys

from .kubeconfig import write_kubeconfig
from .server import start
from .store import Store


async def _main(args: argparse.Namespace) -> None:
    store = Store(pod_deletion=args.pod_deletion)
    server = await start(args.host, args.port, store)
    if args.kubeconfig:
        write_kubeconfig(args.kubeconfig, server.url, args.cluster_name)
    sys.stdout.write(server.url + "\n")
    sys.stdout.flush()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        store.close()
        await server.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m harness.emulation.apiserver",
        description="Kubernetes API stand-in for tests (never a product component).",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--kubeconfig", help="write a kubeconfig for the server here")
    parser.add_argument("--cluster-name", default="cniscrub-standin")
    parser.add_argument(
        "--pod-deletion",
        default="immediate",
        choices=("kubelet", "graceful", "immediate"),
    )
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING, stream=sys.stderr
    )
    asyncio.run(_main(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
