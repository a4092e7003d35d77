"""vxlan backend of the flanneld emulation (test emulation; flannel-footprint.md §2.3).

Device ``flannel.<VNI>`` (``flannel-v6.<VNI>``): VtepDevIndex = external interface,
local = its IP, no port unless configured (kernel default 8472), learning off, MTU
ext - 50, address ``<lease .0>/32`` (``/128``), ``accept_ra=0``. Reused when compatible,
recreated otherwise. Per peer: PERMANENT neighbour, FDB ``self permanent`` to the peer's
underlay IP, route ``<podCIDR> via <.0> dev flannel.1 onlink`` (or a plain route via the
peer with DirectRouting on the same L2 subnet). Netlink: pyroute2, current netns.
"""

from __future__ import annotations

import ipaddress
import logging
from typing import Any

from pyroute2 import IPRoute
from pyroute2.netlink.exceptions import NetlinkError

from harness.emulation.flannel.model import Peer

log = logging.getLogger(__name__)

ENCAP_OVERHEAD = 50  # §2.2 vxlan FLANNEL_MTU = ext - 50
NUD_PERMANENT = 0x80
RTNH_F_ONLINK = 4
RTPROT_BOOT = 3  # what vishvananda/netlink sends


class VXLANDevice:
    """One flannel vxlan device and its per-peer entries."""

    def __init__(
        self,
        ipr: IPRoute,
        *,
        family: int,
        vni: int,
        ext_index: int,
        ext_ip: str,
        ext_mtu: int,
        port: int = 0,
        direct_routing: bool = False,
        ext_net: str = "",
    ) -> None:
        self.ipr = ipr
        self.family = family
        self.vni = vni
        self.name = f"flannel.{vni}" if family == 4 else f"flannel-v6.{vni}"
        self.ext_index = ext_index
        self.ext_ip = ext_ip
        self.mtu = ext_mtu - ENCAP_OVERHEAD
        self.port = port
        self.direct_routing = direct_routing
        self.ext_net = ipaddress.ip_network(ext_net, strict=False) if ext_net else None

    @property
    def index(self) -> int:
        """ifindex of the device, 0 when it does not exist."""
        found = self.ipr.link_lookup(ifname=self.name)
        return int(found[0]) if found else 0

    def _incompatible(self, link: Any) -> str:
        data = link.get("IFLA_LINKINFO").get("IFLA_INFO_DATA")
        local = "IFLA_VXLAN_LOCAL" if self.family == 4 else "IFLA_VXLAN_LOCAL6"
        checks = [
            ("vni", data.get("IFLA_VXLAN_ID"), self.vni),
            ("vtep (external) interface", data.get("IFLA_VXLAN_LINK"), self.ext_index),
            ("vtep (external) IP", data.get(local), self.ext_ip),
            ("learning", bool(data.get("IFLA_VXLAN_LEARNING")), False),
        ]
        if self.port:
            checks.append(("port", data.get("IFLA_VXLAN_PORT"), self.port))
        for what, have, want in checks:
            if have != want:
                return f"{what} mismatch: {have} (existing) vs {want} (new)"
        return ""

    def ensure(self, wanted_mac: str = "") -> str:
        """Create or reuse the device; returns its MAC (the VtepMAC)."""
        idx = self.index
        if idx:
            link = self.ipr.get_links(idx)[0]
            kind = link.get("IFLA_LINKINFO").get("IFLA_INFO_KIND")
            reason = (
                self._incompatible(link) if kind == "vxlan" else "not a vxlan device"
            )
            if not reason:
                return str(link.get("IFLA_ADDRESS"))
            log.warning(
                '"%s" already exists with incompatible configuration: %s; '
                "recreating device",
                self.name,
                reason,
            )
            self.ipr.link("del", index=idx)
        attrs: dict[str, Any] = {
            "ifname": self.name,
            "kind": "vxlan",
            "vxlan_id": self.vni,
            "vxlan_link": self.ext_index,
            "vxlan_learning": 0,
            "mtu": self.mtu,
        }
        attrs["vxlan_local" if self.family == 4 else "vxlan_local6"] = self.ext_ip
        if self.port:
            attrs["vxlan_port"] = self.port
        if wanted_mac:
            attrs["address"] = wanted_mac
        self.ipr.link("add", **attrs)
        link = self.ipr.get_links(self.index)[0]
        return str(link.get("IFLA_ADDRESS"))

    def configure(self, lease_cidr: str, network: str) -> None:
        """``<lease .0>/32`` (v6 ``/128``), drop other in-Network addresses, up."""
        idx = self.index
        lease_ip = str(ipaddress.ip_network(lease_cidr, strict=False).network_address)
        plen = 32 if self.family == 4 else 128
        net = ipaddress.ip_network(network, strict=False)
        have = False
        for a in self.ipr.get_addr(index=idx):
            addr, alen = a.get("IFA_ADDRESS"), a["prefixlen"]
            if (addr, alen) == (lease_ip, plen):
                have = True
            elif ipaddress.ip_address(addr) in net:
                self.ipr.addr("del", index=idx, address=addr, prefixlen=alen)
        if not have:
            self.ipr.addr("add", index=idx, address=lease_ip, prefixlen=plen)
        try:
            with open(f"/proc/sys/net/ipv6/conf/{self.name}/accept_ra", "w") as f:
                f.write("0")
        except OSError as e:
            log.warning("failed to disable accept_ra on %s: %s", self.name, e)
        self.ipr.link("set", index=idx, state="up")

    def _peer_fields(self, peer: Peer) -> tuple[str, str, str]:
        if self.family == 4:
            return peer.pod_cidr, peer.public_ip, peer.vtep_mac
        return peer.pod_cidr_v6, peer.public_ipv6, peer.vtep_mac_v6

    def _direct(self, public_ip: str) -> bool:
        return bool(
            self.direct_routing
            and self.ext_net is not None
            and ipaddress.ip_address(public_ip) in self.ext_net
        )

    def add_peer(self, peer: Peer) -> None:
        """Neighbour + FDB + onlink route for ``peer`` (§2.3 EventAdded)."""
        cidr, public_ip, mac = self._peer_fields(peer)
        if not (cidr and public_ip and mac):
            return
        gw = str(ipaddress.ip_network(cidr, strict=False).network_address)
        if self._direct(public_ip):
            log.info("Adding direct route to subnet: %s PublicIP: %s", cidr, public_ip)
            self.ipr.route(
                "replace",
                dst=cidr,
                gateway=public_ip,
                oif=self.ext_index,
                proto=RTPROT_BOOT,
            )
            return
        idx = self.index
        log.info("Adding subnet: %s PublicIP: %s VtepMAC: %s", cidr, public_ip, mac)
        self.ipr.neigh("replace", dst=gw, lladdr=mac, ifindex=idx, state=NUD_PERMANENT)
        try:
            self.ipr.fdb("append", ifindex=idx, lladdr=mac, dst=public_ip)
        except NetlinkError as e:
            if e.code != 17:  # EEXIST
                raise
        self.ipr.route(
            "replace",
            dst=cidr,
            gateway=gw,
            oif=idx,
            flags=RTNH_F_ONLINK,
            proto=RTPROT_BOOT,
        )

    def remove_peer(self, peer: Peer) -> None:
        """Delete the peer's ARP, FDB and route (§2.3 EventRemoved)."""
        cidr, public_ip, mac = self._peer_fields(peer)
        if not cidr:
            return
        log.info("Removing subnet: %s PublicIP: %s VtepMAC: %s", cidr, public_ip, mac)
        gw = str(ipaddress.ip_network(cidr, strict=False).network_address)
        idx = self.index
        ops: list[tuple[str, dict[str, Any]]] = [("route", {"dst": cidr})]
        if idx and mac:
            ops += [
                ("neigh", {"dst": gw, "lladdr": mac, "ifindex": idx}),
                ("fdb", {"ifindex": idx, "lladdr": mac, "dst": public_ip}),
            ]
        for what, kw in ops:
            try:
                getattr(self.ipr, what)("del", **kw)
            except NetlinkError as e:
                log.debug("remove %s %s: %s", what, kw, e)
