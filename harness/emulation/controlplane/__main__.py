"""The control-plane process of one sandbox cluster (test emulation, never a product
component): ``python -m harness.emulation.controlplane --cluster NAME``.

It serves the API stand-in (host: 127.0.0.1:<free port>; in-cluster: 198.18.0.1:6443 in
the fabric), writes the kubeconfigs (``<state dir>/kubeconfig`` for users,
``/etc/kubernetes/kubelet.conf`` inside every node), registers the Node objects and runs
the kubelets, the DaemonSet, Job and TTL-after-finished controllers, the node lifecycle
controller and the scheduler. Every request (and every write of those in-process
components, under their own identity) goes to the audit log ``<state dir>/audit.log``
(:mod:`harness.emulation.apiserver.audit`). When ready it writes
``<state dir>/controlplane.json``. It lives until the cluster is deleted (SIGKILL).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys

import yaml

from harness.emulation.apiserver.audit import (
    ACTOR,
    SCHEDULER,
    AuditedStore,
    AuditLog,
    acting_as,
    controller,
)
from harness.emulation.apiserver.kubeconfig import kubeconfig_dict, write_kubeconfig
from harness.emulation.apiserver.pki import load_or_create, server_context
from harness.emulation.apiserver.server import make_app, serve
from harness.emulation.apiserver.store import Store
from harness.emulation.controlplane import controllers, nodelifecycle, rootca, sockets
from harness.emulation.controlplane.jobs import JobController
from harness.emulation.controlplane.nodes import node_object
from harness.emulation.kubelet.kubelet import Kubelet
from harness.providers.base import NODE_MONITOR_GRACE_PERIOD
from harness.providers.sandbox.provider import SandboxCluster, SandboxProvider

log = logging.getLogger("controlplane")
NODE_KUBECONFIG = "/etc/kubernetes/kubelet.conf"
AUDIT_LOG = "audit.log"  # in the cluster's state dir
RECORD_POLL = 0.25


async def run(cluster: SandboxCluster, runtime: str, grace: float) -> None:
    # kube-apiserver --audit-log-path: every request, in order (tests read it)
    store = AuditedStore(AuditLog(cluster.state_dir / AUDIT_LOG))
    host_sock = sockets.listen("127.0.0.1", 0)
    fabric_sock = sockets.listen_in_netns(
        f"/proc/{cluster.fabric_pid}/ns/net",
        sockets.IN_CLUSTER_HOST,
        sockets.IN_CLUSTER_PORT,
    )
    # pods reach the API over TLS with the cluster CA (in-cluster config is https-only,
    # real-flannel.md §2); the host socket stays plain http for kubectl and tests
    pki = await asyncio.to_thread(
        load_or_create, cluster.state_dir / "pki", list(sockets.IN_CLUSTER_IPS)
    )
    rootca.install(store, pki.ca_cert.decode())
    runner = await serve(
        make_app(store), [host_sock], server_context(pki), [fabric_sock]
    )
    api_url = f"http://127.0.0.1:{host_sock.getsockname()[1]}"
    in_cluster = f"https://{sockets.IN_CLUSTER_HOST}:{sockets.IN_CLUSTER_PORT}"
    write_kubeconfig(
        cluster.state_dir / "kubeconfig", api_url, f"sandbox-{cluster.name}"
    )
    node_conf = yaml.safe_dump(
        kubeconfig_dict(
            in_cluster, f"sandbox-{cluster.name}", "system:node", pki.ca_cert
        )
    )
    kubelets = []
    for index, node in enumerate(cluster.nodes):
        await asyncio.to_thread(node.write_file, NODE_KUBECONFIG, node_conf, 0o600)
        store.create("nodes", node_object(node, index, runtime))
        kubelets.append(Kubelet(store, node, runtime))

    wake = asyncio.Event()

    def on_change(change: object) -> None:
        wake.set()
        for k in kubelets:
            k.wake.set()

    for resource in ("pods", "daemonsets", "nodes", "jobs"):
        store.subscribe(resource, on_change)
    ready = {"pid": os.getpid(), "api_url": api_url, "in_cluster_url": in_cluster}
    (cluster.state_dir / "controlplane.json").write_text(json.dumps(ready))
    log.info("control plane of %s ready at %s", cluster.name, api_url)
    try:
        await asyncio.gather(
            *(k.run() for k in kubelets),
            _controllers(store, wake),
            _watch_reboots(cluster, kubelets),
            _monitor_nodes(store, kubelets, grace),
        )
    finally:
        await runner.cleanup()


async def _controllers(store: Store, wake: asyncio.Event) -> None:
    job_controller = JobController(store)
    passes = (
        (controller("daemon-set-controller"), controllers.reconcile_daemonsets),
        (SCHEDULER, controllers.schedule_pending),
        (controller("job-controller"), lambda _: job_controller.reconcile()),
    )
    while True:
        try:
            await asyncio.wait_for(wake.wait(), 1.0)
        except TimeoutError:
            pass
        wake.clear()
        for actor, reconcile in passes:
            try:
                with acting_as(actor):
                    reconcile(store)
            except Exception:
                log.exception("controllers")


async def _monitor_nodes(store: Store, kubelets: list[Kubelet], grace: float) -> None:
    """The node lifecycle controller: a silent kubelet's node becomes Unknown."""
    ACTOR.set(controller("node-controller"))  # this task's writes, as audited
    while True:
        await asyncio.sleep(min(5.0, grace / 4))  # --node-monitor-period (5 s)
        for k in kubelets:
            if nodelifecycle.is_stale(k.last_heartbeat, grace):
                try:
                    if nodelifecycle.mark_unreachable(store, k.name):
                        log.info("node %s: kubelet stopped posting status", k.name)
                        k.status_posted_lost()
                except Exception:
                    log.exception("node lifecycle %s", k.name)


async def _watch_reboots(cluster: SandboxCluster, kubelets: list[Kubelet]) -> None:
    """Another process reboots, stops or starts nodes; notice it in the record."""
    boots = {n.name: n.record.boot for n in cluster.nodes}
    while True:
        await asyncio.sleep(RECORD_POLL)
        try:
            await asyncio.to_thread(cluster.refresh)
        except Exception as exc:
            log.debug("record: %s", exc)
            continue
        for k in kubelets:
            if k.node.record.boot != boots[k.name]:
                boots[k.name] = k.node.record.boot
                k.wake.set()


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m harness.emulation.controlplane")
    parser.add_argument("--cluster", required=True)
    parser.add_argument("--runtime", default="containerd-1.7")
    parser.add_argument(
        "--node-monitor-grace-period",
        type=float,
        default=NODE_MONITOR_GRACE_PERIOD,
        help="seconds without kubelet status before a node is NotReady",
    )
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args()
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    cluster = SandboxProvider().get(args.cluster)
    asyncio.run(run(cluster, args.runtime, args.node_monitor_grace_period))
    return 0


if __name__ == "__main__":
    sys.exit(main())
