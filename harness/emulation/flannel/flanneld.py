"""The flanneld agent of the sandbox (test emulation; flannel-footprint.md §2).

Started by :class:`harness.emulation.flannel.image.FlannelImage` for
``/opt/bin/flanneld <flags>`` inside a node; the kube part is a :class:`NodeSource`
(:class:`kube.KubeNodeSource` in a cluster, :mod:`standalone` in sandbox tests), so the
backends and traffic managers can be driven without an API server.

Start order as in flanneld's ``main.go``: net-conf, br_netfilter check, Node lease
(podCIDR), external interface, backend device, annotations, traffic rules, subnet.env,
peers, condition; then the 5 s iptables resync until SIGTERM, then the version's
shutdown behaviour (§2.6).
"""

from __future__ import annotations

import json
import logging
import os
import queue
import signal
import threading
import time
from typing import TYPE_CHECKING, Protocol

from pyroute2 import IPRoute

from harness.emulation.flannel import model, subnet_env
from harness.emulation.flannel.agent_net import (
    Backend,
    ExtIface,
    make_backend,
    pick_ext_iface,
)
from harness.emulation.flannel.checks import FatalError, check_br_netfilter, check_lease
from harness.emulation.flannel.klog import setup_logging
from harness.emulation.flannel.netconf import NetConf, load_netconf
from harness.emulation.flannel.options import FlagError, Options, parse_flags
from harness.emulation.flannel.traffic import Traffic
from harness.emulation.flannel.versions import FlannelVersion, flannel_version

if TYPE_CHECKING:
    from collections.abc import Callable

    from harness.emulation.images.base import ContainerContext

log = logging.getLogger(__name__)
ROUTE_CHECK_INTERVAL = 10.0  # §2.3 host-gw
NODE_SYNC_TIMEOUT = 600.0  # "Waiting 10m0s for node controller to sync"


class NodeSource(Protocol):
    """What the agent needs from the cluster (the kube subnet manager)."""

    def local_node(self) -> model.LocalNode: ...
    def publish(self, annotations: dict[str, str]) -> None: ...
    def set_condition(self) -> None: ...
    def watch(
        self, on_peers: Callable[[list[model.Peer]], None], stop: threading.Event
    ) -> None: ...


class Agent:
    """One flanneld process."""

    def __init__(
        self, opts: Options, version: FlannelVersion, source: NodeSource
    ) -> None:
        self.opts = opts
        self.version = version
        self.source = source
        self.peers: dict[str, model.Peer] = {}
        self.updates: queue.Queue[list[model.Peer]] = queue.Queue()
        self.ready = threading.Event()
        self.node_annotations: dict[str, str] = {}

    def _annotations(
        self, ext: ExtIface, backend: Backend, conf: NetConf
    ) -> dict[str, str]:
        ann = {
            model.ANN_BACKEND_TYPE: conf.backend_type,
            model.ANN_SUBNET_MANAGER: "true",
        }
        if conf.enable_ipv4:
            ann[model.ANN_BACKEND_DATA] = backend.data(4)
            ann[model.ANN_PUBLIC_IP] = (
                self.node_annotations.get(model.ANN_PUBLIC_IP_OVERWRITE)
                or self.opts.public_ip
                or ext.ipv4
            )
        if conf.enable_ipv6:
            ann[model.ANN_BACKEND_V6_DATA] = backend.data(6)
            ann[model.ANN_PUBLIC_IPV6] = self.opts.public_ipv6 or ext.ipv6
        return ann

    def _apply_peers(self, backend: Backend, peers: list[model.Peer]) -> None:
        new = {p.name: p for p in peers}
        for name, old in list(self.peers.items()):
            if new.get(name) != old:
                backend.remove_peer(old)
                del self.peers[name]
        for name, peer in new.items():
            if name not in self.peers:
                backend.add_peer(peer)
                self.peers[name] = peer

    def run(self, stop: threading.Event) -> int:
        """Start, serve until ``stop``, shut down; the exit code."""
        try:
            return self._run(stop)
        except FatalError as e:
            log.error("%s", e)
            return 1

    def _wait_for_node(self, stop: threading.Event) -> model.LocalNode | None:
        """Read this Node, retrying while the API is unreachable (node informer sync,
        10 min in flanneld); None when stopped meanwhile."""
        log.info("Waiting %s for node controller to sync", "10m0s")
        deadline = time.monotonic() + NODE_SYNC_TIMEOUT
        while not stop.is_set():
            try:
                return self.source.local_node()
            except Exception as e:  # API errors of any kind: retry like an informer
                if time.monotonic() > deadline:
                    raise FatalError(f"Failed to create SubnetManager: {e}") from e
                log.warning("failed to get node: %s", e)
                stop.wait(1.0)
        return None

    def _run(self, stop: threading.Event) -> int:
        opts, version = self.opts, self.version
        try:
            conf = load_netconf(opts.net_config_path)
        except (OSError, ValueError) as e:
            raise FatalError(f"Failed to create SubnetManager: {e}") from e
        log.info("Found network config - Backend type: %s", conf.backend_type)
        check_br_netfilter(version, conf)
        node = self._wait_for_node(stop)
        if node is None:
            return 0
        check_lease(node, conf)
        if opts.ip_blackhole_route:
            log.warning(
                "--ip-blackhole-route is not emulated; no blackhole route added"
            )
        self.node_annotations = node.annotations
        ipr = IPRoute()
        try:
            ext = pick_ext_iface(ipr, opts.iface, conf.enable_ipv6)
            backend = make_backend(ipr, conf, ext)
            wanted = node.annotations
            backend.create(wanted)
            self.source.publish(self._annotations(ext, backend, conf))
            backend.configure(node, conf)
            networks, leases = {}, {}
            if conf.enable_ipv4 and conf.network is not None:
                networks[4], leases[4] = str(conf.network), node.pod_cidr
            if conf.enable_ipv6 and conf.ipv6_network is not None:
                networks[6], leases[6] = str(conf.ipv6_network), node.pod_cidr_v6
            traffic = Traffic(
                version,
                nftables=conf.enable_nftables,
                networks=networks,
                leases=leases,
                ip_masq=opts.ip_masq,
                forward=opts.iptables_forward_rules,
                random_fully=not opts.ip_masq_fully_random_disable,
            )
            traffic.clean_other_mode()
            traffic.forget_previous(subnet_env.read(opts.subnet_file))
            traffic.setup()
            env = subnet_env.SubnetEnv(
                network=networks.get(4),
                subnet=leases.get(4),
                ipv6_network=networks.get(6),
                ipv6_subnet=leases.get(6),
                mtu=backend.mtu,
                ipmasq=opts.ip_masq,
            )
            subnet_env.write(env, opts.subnet_file)
            log.info("Wrote subnet file to %s", opts.subnet_file)
            log.info("Running backend.")
            watcher = threading.Thread(
                target=self.source.watch, args=(self.updates.put, stop), daemon=True
            )
            watcher.start()
            if opts.set_node_network_unavailable:
                self.source.set_condition()
            self.ready.set()
            self._loop(stop, backend, traffic)
            log.info("shutdownHandler sent cancel signal...")
            traffic.shutdown()
            watcher.join(timeout=2)
            log.info("Exiting cleanly...")
            return 0
        finally:
            ipr.close()

    def _loop(self, stop: threading.Event, backend: Backend, traffic: Traffic) -> None:
        resync = max(self.opts.iptables_resync, 1)
        next_resync = time.monotonic() + resync
        next_route_check = time.monotonic() + ROUTE_CHECK_INTERVAL
        while not stop.is_set():
            try:
                self._apply_peers(backend, self.updates.get(timeout=0.2))
                continue
            except queue.Empty:
                pass
            now = time.monotonic()
            if now >= next_resync:
                next_resync = now + resync
                traffic.resync()
                if self.version.vxlan_device_watch and backend.recreate_if_missing():
                    for peer in self.peers.values():
                        backend.add_peer(peer)
            if now >= next_route_check:
                next_route_check = now + ROUTE_CHECK_INTERVAL
                backend.check(list(self.peers.values()))


def install_signal_handlers(stop: threading.Event) -> None:
    """SIGTERM/SIGINT cancel the context (main thread only)."""

    def handler(signum: int, _frame: object) -> None:
        stop.set()

    try:
        signal.signal(signal.SIGTERM, handler)
        signal.signal(signal.SIGINT, handler)
    except ValueError:
        log.warning("not in the main thread; signal handlers not installed")


def main(
    argv: list[str],
    *,
    version: str,
    ctx: ContainerContext | None = None,
    source: NodeSource | None = None,
    stop: threading.Event | None = None,
) -> int:
    """flanneld entry point: ``argv`` are the flags after ``/opt/bin/flanneld``."""
    setup_logging()
    environ = {**os.environ, **(ctx.env if ctx else {})}
    try:
        opts = parse_flags(argv, environ)
    except FlagError as e:
        log.error("flag provided but not defined or invalid: %s", e)
        return 2
    log.info("CLI flags config: %s", json.dumps(vars(opts), sort_keys=True))
    stop = stop or threading.Event()
    install_signal_handlers(stop)
    if source is None and not opts.kube_subnet_mgr:
        log.error("Failed to create SubnetManager: etcd mode is not emulated")
        return 1
    if source is None:
        if ctx is None:
            log.error("no node source: need a container context")
            return 1
        from harness.emulation.flannel.kube import KubeNodeSource, api_client

        log.info("Creating kube subnet manager for node %s", ctx.node_name)
        try:
            api = api_client(opts.kubeconfig_file, environ, ctx.kubeconfig)
            source = KubeNodeSource(api, environ.get("NODE_NAME") or ctx.node_name)
        except Exception as e:  # unreadable kubeconfig and the like
            log.error("Failed to create SubnetManager: %s", e)
            return 1
    agent = Agent(opts, flannel_version(version), source)
    health = None
    if opts.healthz_port:
        from harness.emulation.flannel.healthz import serve

        health = serve(opts.healthz_ip, opts.healthz_port, agent.ready)
    try:
        return agent.run(stop)
    finally:
        if health is not None:
            health.shutdown()
