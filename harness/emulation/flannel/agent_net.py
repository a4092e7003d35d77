"""External interface choice and backend facade of the flanneld emulation.

Test emulation (flannel-footprint.md §2.2, §2.3). ``--iface`` or the default-route
interface (``eth0`` in a sandbox node when there is no default route); the backend
facade hides vxlan (one device per family) versus host-gw from the agent.
"""

from __future__ import annotations

import ipaddress
import json
import logging
from dataclasses import dataclass

from pyroute2 import IPRoute

from harness.emulation.flannel.backend_hostgw import HostGWBackend
from harness.emulation.flannel.backend_vxlan import VXLANDevice
from harness.emulation.flannel.model import (
    ANN_BACKEND_DATA,
    ANN_BACKEND_V6_DATA,
    LocalNode,
    Peer,
)
from harness.emulation.flannel.netconf import NetConf

log = logging.getLogger(__name__)


class BackendError(Exception):
    """Unsupported backend or unusable interface."""


@dataclass(frozen=True)
class ExtIface:
    """The external (underlay) interface."""

    index: int
    name: str
    mtu: int
    ipv4: str
    ipv4_net: str
    ipv6: str = ""


def _addrs(ipr: IPRoute, index: int, family: int) -> list[tuple[str, int]]:
    out = []
    for a in ipr.get_addr(index=index, family=family):
        if a["scope"] == 0:  # global
            out.append((str(a.get("IFA_ADDRESS")), int(a["prefixlen"])))
    return out


def _by_address(ipr: IPRoute, value: str) -> list[int]:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return []
    return [int(a["index"]) for a in ipr.get_addr() if a.get("IFA_ADDRESS") == value]


def pick_ext_iface(ipr: IPRoute, ifaces: list[str], ipv6: bool = False) -> ExtIface:
    """``--iface`` (first that exists) or the default-route interface."""
    index = 0
    for name in ifaces:  # a name or an address, as flanneld's --iface accepts
        found = ipr.link_lookup(ifname=name) or _by_address(ipr, name)
        if found:
            index = found[0]
            break
    if ifaces and not index:
        raise BackendError(f"failed to find interface: {ifaces[0]}")
    if not index:
        log.info("Determining IP address of default interface")
        for r in ipr.route("dump", family=2, table=254):
            if r["dst_len"] == 0 and r.get("RTA_OIF"):
                index = r.get("RTA_OIF")
                break
    if not index:
        found = ipr.link_lookup(ifname="eth0")
        if not found:
            raise BackendError(
                "failed to get default interface: unable to find default route"
            )
        log.warning("no default route; using eth0")
        index = found[0]
    link = ipr.get_links(index)[0]
    name = str(link.get("IFLA_IFNAME"))
    v4 = _addrs(ipr, index, 2)
    v6 = _addrs(ipr, index, 10)
    if not v4 and not ipv6:
        raise BackendError(f"failed to find IPv4 address for interface {name}")
    ip4, plen = v4[0] if v4 else ("", 0)
    log.info("Using interface with name %s and address %s", name, ip4)
    log.info("Defaulting external address to interface address (%s)", ip4)
    return ExtIface(
        index=index,
        name=name,
        mtu=int(link.get("IFLA_MTU")),
        ipv4=ip4,
        ipv4_net=f"{ip4}/{plen}" if ip4 else "",
        ipv6=v6[0][0] if v6 else "",
    )


class Backend:
    """vxlan or host-gw, as the agent sees it."""

    def __init__(self, ipr: IPRoute, conf: NetConf, ext: ExtIface) -> None:
        self.conf = conf
        self.ext = ext
        self.devices: dict[int, VXLANDevice] = {}
        self.macs: dict[int, str] = {}
        self.hostgw: HostGWBackend | None = None
        self.node: LocalNode | None = None
        if conf.backend_type == "vxlan":
            for family, on, ip in (
                (4, conf.enable_ipv4, ext.ipv4),
                (6, conf.enable_ipv6, ext.ipv6),
            ):
                if on:
                    self.devices[family] = VXLANDevice(
                        ipr,
                        family=family,
                        vni=conf.vni,
                        ext_index=ext.index,
                        ext_ip=ip,
                        ext_mtu=ext.mtu,
                        port=conf.port,
                        direct_routing=conf.direct_routing,
                        ext_net=ext.ipv4_net if family == 4 else "",
                    )
        elif conf.backend_type == "host-gw":
            self.hostgw = HostGWBackend(
                ipr, ext_index=ext.index, ipv4=conf.enable_ipv4, ipv6=conf.enable_ipv6
            )
        else:
            raise BackendError(f"backend type {conf.backend_type!r} is not emulated")

    @property
    def mtu(self) -> int:
        """FLANNEL_MTU (§2.2)."""
        dev = self.devices.get(4) or self.devices.get(6)
        return dev.mtu if dev else self.ext.mtu

    def create(self, annotations: dict[str, str]) -> None:
        """Create/reuse devices; MAC re-read from backend-data on restart (§2.3)."""
        keys = {4: ANN_BACKEND_DATA, 6: ANN_BACKEND_V6_DATA}
        for family, dev in self.devices.items():
            wanted = ""
            try:
                data = json.loads(annotations.get(keys[family]) or "null")
                wanted = str(data.get("VtepMAC", "")) if isinstance(data, dict) else ""
            except ValueError:
                pass
            self.macs[family] = dev.ensure(wanted)

    def data(self, family: int) -> str:
        """backend-data annotation value (§2.7)."""
        if family in self.devices:
            mac = self.macs[family]
            return json.dumps(
                {"VNI": self.conf.vni, "VtepMAC": mac}, separators=(",", ":")
            )
        return "null"

    def configure(self, node: LocalNode, conf: NetConf) -> None:
        """Lease addresses on the devices."""
        self.node = node
        if 4 in self.devices and conf.network is not None:
            self.devices[4].configure(node.pod_cidr, str(conf.network))
        if 6 in self.devices and conf.ipv6_network is not None:
            self.devices[6].configure(node.pod_cidr_v6, str(conf.ipv6_network))

    def add_peer(self, peer: Peer) -> None:
        """EventAdded."""
        if peer.backend_type != self.conf.backend_type:
            log.warning(
                "ignoring non-%s subnet(%s): type=%s",
                self.conf.backend_type,
                peer.pod_cidr,
                peer.backend_type,
            )
            return
        for dev in self.devices.values():
            dev.add_peer(peer)
        if self.hostgw:
            self.hostgw.add_peer(peer)

    def remove_peer(self, peer: Peer) -> None:
        """EventRemoved."""
        for dev in self.devices.values():
            dev.remove_peer(peer)
        if self.hostgw:
            self.hostgw.remove_peer(peer)

    def recreate_if_missing(self) -> bool:
        """v0.27.4+ watchVXLANDevice: recreate a deleted device; True if it did."""
        again = False
        for family, dev in self.devices.items():
            if dev.index:
                continue
            log.warning("vxlan device %s was deleted, recreating it", dev.name)
            self.macs[family] = dev.ensure(self.macs.get(family, ""))
            again = True
        if again and self.node is not None:
            self.configure(self.node, self.conf)
        return again

    def check(self, peers: list[Peer]) -> None:
        """host-gw 10 s route check."""
        if self.hostgw:
            self.hostgw.check(peers)


def make_backend(ipr: IPRoute, conf: NetConf, ext: ExtIface) -> Backend:
    """The backend for net-conf ``Backend.Type``."""
    return Backend(ipr, conf, ext)
