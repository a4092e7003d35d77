"""The routes controller's view of its peers: which pod CIDRs are routed where
(test emulation).

kube-router-footprint.md §2.2 / §2.3: every other node is an iBGP peer; while its
session is up its pod CIDR is routed ``via <peer IP> dev <NIC> proto 17`` (same subnet)
or ``dev tun-… proto 17 src <node IP>`` (overlay); routes are applied with replace and
re-applied every ``--injected-routes-sync-period``; a peer whose Node is deleted is
withdrawn at once (dst + proto 17). A peer whose session drops is kept as stale for
``--bgp-graceful-restart-time`` when graceful restart is on (BGP graceful restart;
the manifests enable it), else withdrawn at once.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from pyroute2 import IPRoute

from harness.emulation.kube_router import model, routing, sockets
from harness.emulation.kube_router.options import Options

log = logging.getLogger(__name__)


@dataclass
class Route:
    """One injected route: the peer's pod CIDR and how it is reached."""

    dst: str
    peer_ip: str
    tunnel: str = ""


class Peering:
    """Routes to the peers of one node."""

    def __init__(
        self, ipr: IPRoute, opts: Options, me: model.NodeInfo, nic: routing.Nic
    ) -> None:
        self.ipr, self.opts, self.me, self.nic = ipr, opts, me, nic
        self.routes: dict[str, Route] = {}  # peer name -> its route
        self.lost: dict[str, float] = {}  # peer name -> when its session dropped
        self.v2_names = True

    def _wanted(self, peer: model.NodeInfo) -> Route | None:
        cidr = peer.pod_cidr(4)
        if not cidr or not peer.ip:
            return None
        full = self.opts.overlay_type == "full"
        if model.needs_tunnel(
            self.nic.network, peer.ip, self.opts.enable_overlay, full
        ):
            return Route(cidr, peer.ip, model.tunnel_name(peer.ip, self.v2_names))
        if model.needs_tunnel(self.nic.network, peer.ip, True, False):
            log.debug("peer %s: another subnet, overlay off: no route", peer.name)
            return None  # §2.3: the upstream router must carry it
        return Route(cidr, peer.ip)

    def _install(self, route: Route) -> None:
        if route.tunnel:
            index = routing.ensure_tunnel(
                self.ipr, route.tunnel, self.nic.ip, route.peer_ip
            )
            if index is not None:
                routing.replace_tunnel_route(self.ipr, route.dst, index, self.nic.ip)
            return
        routing.replace_route(self.ipr, route.dst, route.peer_ip, self.nic.index)

    def _withdraw(self, name: str) -> None:
        route = self.routes.pop(name)
        self.lost.pop(name, None)
        log.info("Withdrawing route to %s (peer %s)", route.dst, name)
        routing.withdraw_route(self.ipr, route.dst)
        if route.tunnel:
            for index in self.ipr.link_lookup(ifname=route.tunnel):
                self.ipr.link("del", index=index)

    def sync(self, nodes: list[model.NodeInfo], resync: bool = False) -> None:
        """Bring the injected routes in line with ``nodes`` and the sessions."""
        now = time.monotonic()
        peers = {n.name: n for n in nodes if n.name != self.me.name}
        for name in [n for n in self.routes if n not in peers]:
            self._withdraw(name)  # the Node is gone: the peer is removed from BGP
        for name, peer in peers.items():
            wanted = self._wanted(peer)
            if wanted is None:
                if name in self.routes:
                    self._withdraw(name)
                continue
            if sockets.session_up(peer.ip, self.opts.bgp_port):
                self.lost.pop(name, None)
                if resync or self.routes.get(name) != wanted:
                    self._install(wanted)
                    self.routes[name] = wanted
            elif name in self.routes:
                since = self.lost.setdefault(name, now)
                keep = self.opts.bgp_graceful_restart_time
                if not self.opts.bgp_graceful_restart or now - since > keep:
                    self._withdraw(name)
