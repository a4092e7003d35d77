"""The kube-router agent of the sandbox (test emulation; kube-router-footprint.md).

Started by :class:`harness.emulation.kube_router.image.KubeRouterImage` for the
``kube-router`` container (or by :mod:`standalone` in light-node tests). With the
standard manifests' flags (router + firewall, no service proxy) it does, in order:
read this Node's pod CIDR (annotation, else spec; fatal when none, §3.1), create the
``kube-router-pod-subnets`` / ``kube-router-node-ips`` ipsets (§2.5), rewrite the CNI
conf (fails when it is missing, §3.1), set ``bridge-nf-call-iptables=1`` (§2.6), make
``kube-bridge`` (§2.2), insert the FORWARD ACCEPTs and append the MASQUERADE rule
(§2.4), add ``from <podCIDR> lookup 77`` (§2.3), listen on 179/50051/20244 (§2.6), run
a first network-policy sync (§2.4); then every second it follows Nodes (routes,
ipsets) and local pods (pod firewall chains) until SIGTERM, when it stops and removes
nothing (§4: only ``--cleanup-config`` removes state, and not all of it).
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time

from pyroute2 import IPRoute

from harness.emulation.kube_router import cniconf, model, routing, rules, sockets
from harness.emulation.kube_router.firewall import Firewall
from harness.emulation.kube_router.iptables import IPTables, ipset_refresh
from harness.emulation.kube_router.options import Options
from harness.emulation.kube_router.peering import Peering
from harness.emulation.kube_router.sources import ClusterSource, local_pods
from harness.emulation.kube_router.versions import KubeRouterVersion

log = logging.getLogger(__name__)
POLL = 1.0
BR_NF = "/proc/sys/net/bridge/bridge-nf-call-iptables"
NO_POD_CIDR = (  # §3.1 (3): klog.Fatalf, then CrashLoop
    "Failed to get pod CIDR from node spec. kube-router relies on "
    "kube-controller-manager to allocate pod CIDR for the node or an annotation "
    "`kube-router.io/pod-cidr`. Error: node {node} has no pod CIDR"
)
EXIT_FATAL = 255  # klog.Fatalf


class FatalError(Exception):
    """kube-router logs it and exits non-zero (the kubelet restarts it)."""


class Agent:
    """One kube-router process."""

    def __init__(
        self,
        opts: Options,
        version: KubeRouterVersion,
        source: ClusterSource,
        node_name: str,
        conf_file: str,
    ) -> None:
        self.opts, self.version, self.source = opts, version, source
        self.node_name, self.conf_file = node_name, conf_file
        self.closers: list[object] = []
        self.nodes: list[model.NodeInfo] = []

    def _read_nodes(self) -> model.NodeInfo:
        self.nodes = [model.node_info(n) for n in self.source.nodes()]
        for node in self.nodes:
            if node.name == self.node_name:
                return node
        raise FatalError(
            f'Failed to get node object: nodes "{self.node_name}" not found'
        )

    def _refresh_sets(self) -> None:
        """§2.5: both sets, refreshed atomically on every routes sync."""
        ipset_refresh(rules.POD_SUBNETS_SET, "hash:net", model.pod_subnets(self.nodes))
        ipset_refresh(rules.NODE_IPS_SET, "hash:ip", model.node_ips(self.nodes))

    def _conf(self, me: model.NodeInfo, nic: routing.Nic) -> None:
        if not self.opts.enable_cni:
            return
        mtu = nic.mtu if self.opts.auto_mtu else None
        cidrs = [c for c in me.pod_cidrs if ":" not in c]
        try:
            cniconf.update(self.conf_file, cidrs, mtu, self.version.ipam_ranges)
        except cniconf.ConfError as e:
            raise FatalError(f"Failed to create network routing controller: {e}") from e

    def _netfilter(self, nic: routing.Nic) -> None:
        ipt = IPTables()
        for rule in rules.forward_rules(nic.name):  # §2.4, each at position 1
            ipt.insert_first_if_missing(rule)
        for bad in rules.bad_masquerade_variants():
            ipt.delete_all(bad)
        if self.opts.enable_pod_egress:
            ipt.append_if_missing(rules.masquerade())

    def _br_netfilter(self) -> None:
        try:
            with open(BR_NF, "w") as f:
                f.write("1")
        except OSError as e:
            log.error("Failed to enable netfilter for bridge: %s", e)

    def start(self, ipr: IPRoute) -> tuple[Peering | None, Firewall | None]:
        """Everything kube-router sets up before its sync loop."""
        me = self._read_nodes()
        if not me.pod_cidrs:
            raise FatalError(NO_POD_CIDR.format(node=me.name))
        nic = routing.primary_nic(ipr, me.ip)
        peering = firewall = None
        if self.opts.run_router:
            self._refresh_sets()
            self._conf(me, nic)
            self._br_netfilter()
            routing.ensure_bridge(ipr, nic.mtu)
            self._netfilter(nic)
            cidr = me.pod_cidr(4)
            if self.opts.enable_overlay:
                routing.ensure_pbr_rule(ipr, cidr)
            else:
                routing.delete_pbr_rule(ipr, cidr)
            self.closers += [
                sockets.Listener((me.ip, self.opts.bgp_port)),
                sockets.Listener(sockets.GRPC),
            ]
            peering = Peering(ipr, self.opts, me, nic)
            peering.v2_names = self.version.tunnel_names_v2
            peering.sync(self.nodes, resync=True)
        if self.opts.run_firewall:
            firewall = Firewall(self.opts, self.version)
            firewall.sync(local_pods(self.source.pods_on(self.node_name)))
        self.closers.append(sockets.serve_health(self.opts.health_port))
        return peering, firewall

    def loop(
        self, stop: threading.Event, peering: Peering | None, firewall: Firewall | None
    ) -> None:
        last_inject = last_routes = time.monotonic()
        known: list[model.NodeInfo] = list(self.nodes)
        while not stop.wait(POLL):
            try:
                self._read_nodes()
                now = time.monotonic()
                if peering is not None:
                    resync = now - last_inject >= self.opts.injected_routes_sync_period
                    peering.sync(self.nodes, resync=resync)
                    last_inject = now if resync else last_inject
                    periodic = now - last_routes >= self.opts.routes_sync_period
                    if self.nodes != known or periodic:
                        self._refresh_sets()
                        known, last_routes = list(self.nodes), now
                if firewall is not None:
                    firewall.sync(local_pods(self.source.pods_on(self.node_name)))
            except Exception as e:  # API or command errors: retry next period
                log.error("sync failed: %s", e)

    def close(self) -> None:
        for closer in self.closers:
            if isinstance(closer, sockets.Listener):
                closer.close()
            else:
                closer.shutdown()  # type: ignore[attr-defined]

    def run(self, stop: threading.Event) -> int:
        """Start, sync until ``stop``, stop (removing nothing); the exit code."""
        ipr = IPRoute()
        try:
            peering, firewall = self.start(ipr)
            log.info("kube-router is up on %s", self.node_name)
            self.loop(stop, peering, firewall)
            log.info("Shutting down the controllers")
            return 0
        except FatalError as e:
            log.error("%s", e)
            return EXIT_FATAL
        finally:
            self.close()
            ipr.close()


def install_signal_handlers(stop: threading.Event) -> None:
    def handler(signum: int, _frame: object) -> None:
        stop.set()

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, handler)


def conf_file(environ: dict[str, str]) -> str:
    """§1: ``KUBE_ROUTER_CNI_CONF_FILE``, else the binary's default ``.conf``."""
    return environ.get(cniconf.CONF_FILE_ENV) or cniconf.DEFAULT_CONF_FILE


def node_name(opts: Options, environ: dict[str, str]) -> str:
    return opts.hostname_override or environ.get("NODE_NAME") or os.uname().nodename
