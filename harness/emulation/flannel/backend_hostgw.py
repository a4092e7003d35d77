"""host-gw backend of the flanneld emulation (test emulation; footprint §2.3).

No device; one route per peer, ``<peer podCIDR> via <peer public IP> dev <ext>`` (v4 and
v6), re-checked every 10 s and deleted when the peer goes away. FLANNEL_MTU = ext MTU.
"""

from __future__ import annotations

import logging

from pyroute2 import IPRoute
from pyroute2.netlink.exceptions import NetlinkError

from harness.emulation.flannel.model import Peer

log = logging.getLogger(__name__)

ROUTE_CHECK_INTERVAL = 10.0  # §2.3 routeCheckRetries every 10 s
RTPROT_BOOT = 3


class HostGWBackend:
    """Routes to peers via their public IPs."""

    def __init__(self, ipr: IPRoute, *, ext_index: int, ipv4: bool, ipv6: bool) -> None:
        self.ipr = ipr
        self.ext_index = ext_index
        self.ipv4 = ipv4
        self.ipv6 = ipv6

    def _routes(self, peer: Peer) -> list[tuple[str, str]]:
        out = []
        if self.ipv4 and peer.pod_cidr and peer.public_ip:
            out.append((peer.pod_cidr, peer.public_ip))
        if self.ipv6 and peer.pod_cidr_v6 and peer.public_ipv6:
            out.append((peer.pod_cidr_v6, peer.public_ipv6))
        return out

    def add_peer(self, peer: Peer) -> None:
        """Route the peer's podCIDR(s) via its public IP(s)."""
        for dst, gw in self._routes(peer):
            log.info("Adding route to subnet: %s PublicIP: %s", dst, gw)
            self.ipr.route(
                "replace", dst=dst, gateway=gw, oif=self.ext_index, proto=RTPROT_BOOT
            )

    def remove_peer(self, peer: Peer) -> None:
        """Delete the peer's routes (EventRemoved)."""
        for dst, gw in self._routes(peer):
            log.info("Removing route to subnet: %s PublicIP: %s", dst, gw)
            try:
                self.ipr.route("del", dst=dst, gateway=gw, oif=self.ext_index)
            except NetlinkError as e:
                log.debug("remove route %s: %s", dst, e)

    def check(self, peers: list[Peer]) -> None:
        """The 10 s route check: re-add any missing peer route."""
        present = set()
        for family in (2, 10):
            for r in self.ipr.route("dump", family=family, table=254):
                dst = r.get("RTA_DST")
                if dst and r.get("RTA_OIF") == self.ext_index:
                    present.add((f"{dst}/{r['dst_len']}", r.get("RTA_GATEWAY")))
        for peer in peers:
            for dst, gw in self._routes(peer):
                if (dst, gw) not in present:
                    log.warning("Route to %s via %s is missing, re-adding", dst, gw)
                    self.add_peer(peer)
                    break
