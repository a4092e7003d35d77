"""A minimal rtnetlink client on a raw socket: dumps of links, addresses and routes,
decoding only the few attributes cniscrub reads (no pyroute2 import, no event loop).

Used to read a pod's side of a veth: :func:`socket_in` opens the socket *inside* a
network namespace (``setns`` of this thread, socket, ``setns`` back -- a netlink socket
stays bound to the namespace it was created in), so no code runs inside the pod netns.

>>> attrs(struct.pack("=HH", 8, 4) + struct.pack("=I", 1500))
{4: b'\\xdc\\x05\\x00\\x00'}
>>> mac(b"\\xaa\\xbb\\xcc\\x00\\x01\\x02")
'aa:bb:cc:00:01:02'
"""

from __future__ import annotations

import os
import socket
import struct
from typing import Any

NETLINK_ROUTE = 0
NLM_F_REQUEST, NLM_F_DUMP = 0x1, 0x300
NLMSG_ERROR, NLMSG_DONE = 2, 3
NLM_F_DUMP_INTR = 0x10
DUMP_RETRIES = 5
RTM_GETLINK, RTM_GETADDR, RTM_GETROUTE = 18, 22, 26
NLA_TYPE_MASK = 0x3FFF
_HDR = struct.Struct("=IHHII")  # nlmsghdr
_IFINFO = struct.Struct("=BxHiII")  # ifinfomsg
_IFADDR = struct.Struct("=BBBBi")  # ifaddrmsg
_RTMSG = struct.Struct("=BBBBBBBBI")  # rtmsg
IFLA_ADDRESS, IFLA_IFNAME, IFLA_MTU = 1, 3, 4
IFA_ADDRESS = 1
RTA_DST, RTA_OIF, RTA_GATEWAY, RTA_TABLE = 1, 4, 5, 15


def attrs(buf: bytes, offset: int = 0) -> dict[int, bytes]:
    """Netlink attributes (type without flags -> raw payload) from ``offset`` on."""
    out: dict[int, bytes] = {}
    end = len(buf)
    while offset + 4 <= end:
        length, kind = struct.unpack_from("=HH", buf, offset)
        if length < 4:
            break
        out[kind & NLA_TYPE_MASK] = buf[offset + 4 : offset + length]
        offset += (length + 3) & ~3
    return out


def mac(raw: bytes) -> str:
    return ":".join(f"{b:02x}" for b in raw)


def ip(raw: bytes) -> str:
    return socket.inet_ntop(socket.AF_INET6 if len(raw) == 16 else socket.AF_INET, raw)


def u32(raw: bytes | None) -> int | None:
    return None if raw is None else int(struct.unpack("=I", raw[:4])[0])


def cstr(raw: bytes) -> str:
    return raw.split(b"\0", 1)[0].decode("utf-8", "replace")


class RtnlSocket:
    """One NETLINK_ROUTE socket; :meth:`dump` returns (type, payload) messages."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.seq = 0

    @classmethod
    def open(cls) -> RtnlSocket:
        sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_ROUTE)
        sock.bind((0, 0))
        return cls(sock)

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> RtnlSocket:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def request(self, msg_type: int, flags: int, body: bytes) -> list[bytes]:
        """Send one request; payloads of every reply until DONE (dump) or the answer.
        A dump the kernel marks inconsistent (NLM_F_DUMP_INTR: the state changed
        while it was dumped) is taken again, as ``ip`` does."""
        for _ in range(DUMP_RETRIES):
            out, consistent = self._request_once(msg_type, flags, body)
            if consistent:
                return out
        raise OSError(4, "netlink dump kept being interrupted (state changing)")

    def _request_once(
        self, msg_type: int, flags: int, body: bytes
    ) -> tuple[list[bytes], bool]:
        self.seq += 1
        seq = self.seq
        hdr = _HDR.pack(_HDR.size + len(body), msg_type, NLM_F_REQUEST | flags, seq, 0)
        self.sock.send(hdr + body)
        out: list[bytes] = []
        consistent = True
        while True:
            buf = self.sock.recv(1 << 20)
            offset = 0
            while offset + _HDR.size <= len(buf):
                length, kind, mflags, mseq, _ = _HDR.unpack_from(buf, offset)
                if length < _HDR.size:
                    raise OSError("malformed netlink message")
                payload = buf[offset + _HDR.size : offset + length]
                offset += (length + 3) & ~3
                if mseq != seq:
                    continue
                if mflags & NLM_F_DUMP_INTR:
                    consistent = False
                if kind == NLMSG_DONE:
                    return out, consistent
                if kind == NLMSG_ERROR:
                    err = -int(struct.unpack_from("=i", payload)[0])
                    if err:
                        raise OSError(err, os.strerror(err))
                    return out, consistent
                out.append(payload)
                if not flags & NLM_F_DUMP:
                    return out, consistent

    def link(self, index: int) -> dict[str, Any] | None:
        """Name, MAC, MTU and flags of one link, or None if there is no such index."""
        try:
            msgs = self.request(RTM_GETLINK, 0, _IFINFO.pack(0, 0, index, 0, 0))
        except OSError as exc:
            if exc.errno == 19:  # ENODEV
                return None
            raise
        if not msgs:
            return None
        _, _, idx, flags, _ = _IFINFO.unpack_from(msgs[0])
        a = attrs(msgs[0], _IFINFO.size)
        return {
            "index": idx,
            "flags": flags,
            "ifname": cstr(a[IFLA_IFNAME]) if IFLA_IFNAME in a else None,
            "mac": mac(a[IFLA_ADDRESS]) if IFLA_ADDRESS in a else None,
            "mtu": u32(a.get(IFLA_MTU)),
        }

    def addresses(self) -> list[dict[str, Any]]:
        """Every address: index, family, prefixlen, scope, address."""
        out = []
        for msg in self.request(RTM_GETADDR, NLM_F_DUMP, _IFADDR.pack(0, 0, 0, 0, 0)):
            family, plen, _, scope, index = _IFADDR.unpack_from(msg)
            a = attrs(msg, _IFADDR.size)
            if IFA_ADDRESS in a:
                out.append(
                    {
                        "index": index,
                        "family": family,
                        "prefixlen": plen,
                        "scope": scope,
                        "address": ip(a[IFA_ADDRESS]),
                    }
                )
        return out

    def routes(self) -> list[dict[str, Any]]:
        """Every route of both families: family, dst_len, table, proto, oif, dst, gw."""
        out = []
        body = _RTMSG.pack(0, 0, 0, 0, 0, 0, 0, 0, 0)
        for msg in self.request(RTM_GETROUTE, NLM_F_DUMP, body):
            family, dst_len, _, _, table, proto, _, rtype, _ = _RTMSG.unpack_from(msg)
            a = attrs(msg, _RTMSG.size)
            out.append(
                {
                    "family": family,
                    "dst_len": dst_len,
                    "table": u32(a.get(RTA_TABLE)) or table,
                    "proto": proto,
                    "type": rtype,
                    "oif": u32(a.get(RTA_OIF)),
                    "dst": ip(a[RTA_DST]) if RTA_DST in a else None,
                    "gateway": ip(a[RTA_GATEWAY]) if RTA_GATEWAY in a else None,
                }
            )
        return out


def socket_in(netns: str) -> RtnlSocket:
    """An rtnetlink socket bound to the network namespace at ``netns``."""
    from cniscrub.node.netns_enter import entered

    with entered(netns):
        return RtnlSocket.open()


# --- inventory dumps: the same compact dicts as :func:`cniscrub.node.netlink.dump` ---
# (attribute numbers from linux/if_link.h, if_addr.h, rtnetlink.h, neighbour.h)
RTM_GETNEIGH, RTM_GETNSID = 30, 90
_NDMSG = struct.Struct("=BxxxiHBB")  # ndmsg
IFLA_MASTER, IFLA_LINKINFO, IFLA_GROUP, IFLA_LINK_NETNSID = 10, 18, 27, 37
IFLA_LINK = 5
IFLA_INFO_KIND, IFLA_INFO_DATA, IFLA_INFO_SLAVE_KIND = 1, 2, 4
IFA_LOCAL, IFA_LABEL, IFA_FLAGS = 2, 3, 8
RTA_PRIORITY, RTA_PREFSRC, RTA_MULTIPATH = 6, 7, 9
NDA_DST, NDA_LLADDR, NDA_VLAN, NDA_MASTER = 1, 2, 5, 9
NETNSA_NSID, NETNSA_FD = 1, 3


def _u8(raw: bytes) -> int:
    return raw[0]


def _u16(raw: bytes) -> int:
    return int(struct.unpack("=H", raw[:2])[0])


def _be16(raw: bytes) -> int:
    return int(struct.unpack("!H", raw[:2])[0])


def _s32(raw: bytes) -> int:
    return int(struct.unpack("=i", raw[:4])[0])


def _u32(raw: bytes) -> int:
    return int(struct.unpack("=I", raw[:4])[0])


def _flag(raw: bytes) -> bool:
    return True


def _str(raw: bytes) -> Any:
    value = raw.split(b"\0", 1)[0]
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        return value  # as pyroute2 does: keep what cannot be decoded


_Dec = dict[int, tuple[str, Any]]
VXLAN: _Dec = {
    1: ("IFLA_VXLAN_ID", _u32),
    3: ("IFLA_VXLAN_LINK", _u32),
    4: ("IFLA_VXLAN_LOCAL", ip),
    5: ("IFLA_VXLAN_TTL", _u8),
    7: ("IFLA_VXLAN_LEARNING", _u8),
    15: ("IFLA_VXLAN_PORT", _be16),
    17: ("IFLA_VXLAN_LOCAL6", ip),
    23: ("IFLA_VXLAN_GBP", _flag),
}
IPTUN: _Dec = {
    1: ("IFLA_IPTUN_LINK", _u32),
    2: ("IFLA_IPTUN_LOCAL", ip),
    3: ("IFLA_IPTUN_REMOTE", ip),
    4: ("IFLA_IPTUN_TTL", _u8),
}
TUN: _Dec = {3: ("IFLA_TUN_TYPE", _u8)}
INFO_DATA = {"vxlan": VXLAN, "ipip": IPTUN, "sit": IPTUN, "ip6tnl": IPTUN, "tun": TUN}
LINK: _Dec = {
    IFLA_IFNAME: ("IFLA_IFNAME", _str),
    IFLA_ADDRESS: ("IFLA_ADDRESS", mac),
    IFLA_MTU: ("IFLA_MTU", _u32),
    IFLA_GROUP: ("IFLA_GROUP", _u32),
    IFLA_MASTER: ("IFLA_MASTER", _u32),
    IFLA_LINK: ("IFLA_LINK", _u32),
    IFLA_LINK_NETNSID: ("IFLA_LINK_NETNSID", _s32),
}
ADDR: _Dec = {
    IFA_ADDRESS: ("IFA_ADDRESS", ip),
    IFA_LOCAL: ("IFA_LOCAL", ip),
    IFA_LABEL: ("IFA_LABEL", _str),
    IFA_FLAGS: ("IFA_FLAGS", _u32),
}
ROUTE: _Dec = {
    RTA_TABLE: ("RTA_TABLE", _u32),
    RTA_DST: ("RTA_DST", ip),
    RTA_GATEWAY: ("RTA_GATEWAY", ip),
    RTA_OIF: ("RTA_OIF", _u32),
    RTA_PRIORITY: ("RTA_PRIORITY", _u32),
    RTA_PREFSRC: ("RTA_PREFSRC", ip),
    RTA_MULTIPATH: ("RTA_MULTIPATH", lambda raw: [] if not raw else [{}]),
}
NEIGH: _Dec = {
    NDA_DST: ("NDA_DST", ip),
    NDA_LLADDR: ("NDA_LLADDR", mac),
    NDA_MASTER: ("NDA_MASTER", _u32),
    NDA_VLAN: ("NDA_VLAN", _u16),
}


def _decode(a: dict[int, bytes], table: _Dec) -> dict[str, Any]:
    return {name: fn(a[num]) for num, (name, fn) in table.items() if num in a}


def _linkinfo(raw: bytes) -> dict[str, Any]:
    info = attrs(raw)
    kind = _str(info[IFLA_INFO_KIND]) if IFLA_INFO_KIND in info else None
    slave = info.get(IFLA_INFO_SLAVE_KIND)
    data = None
    if kind in INFO_DATA and IFLA_INFO_DATA in info:
        data = _decode(attrs(info[IFLA_INFO_DATA]), INFO_DATA[kind])
    return {
        "IFLA_INFO_KIND": kind,
        "IFLA_INFO_SLAVE_KIND": _str(slave) if slave is not None else None,
        "IFLA_INFO_DATA": data,
    }


def _links(nl: RtnlSocket) -> list[dict[str, Any]]:
    out = []
    for msg in nl.request(RTM_GETLINK, NLM_F_DUMP, _IFINFO.pack(0, 0, 0, 0, 0)):
        family, ifi_type, index, flags, change = _IFINFO.unpack_from(msg)
        a = attrs(msg, _IFINFO.size)
        decoded = _decode(a, LINK)
        if IFLA_LINKINFO in a:
            decoded["IFLA_LINKINFO"] = _linkinfo(a[IFLA_LINKINFO])
        out.append(
            {
                "family": family,
                "ifi_type": ifi_type,
                "index": index,
                "flags": flags,
                "change": change,
                "attrs": decoded,
            }
        )
    return out


def _addresses(nl: RtnlSocket) -> list[dict[str, Any]]:
    out = []
    for msg in nl.request(RTM_GETADDR, NLM_F_DUMP, _IFADDR.pack(0, 0, 0, 0, 0)):
        family, plen, flags, scope, index = _IFADDR.unpack_from(msg)
        out.append(
            {
                "family": family,
                "prefixlen": plen,
                "flags": flags,
                "scope": scope,
                "index": index,
                "attrs": _decode(attrs(msg, _IFADDR.size), ADDR),
            }
        )
    return out


def _routes(nl: RtnlSocket) -> list[dict[str, Any]]:
    out = []
    body = _RTMSG.pack(0, 0, 0, 0, 0, 0, 0, 0, 0)
    names = ("family", "dst_len", "src_len", "tos", "table", "proto", "scope", "type")
    for msg in nl.request(RTM_GETROUTE, NLM_F_DUMP, body):
        fields = _RTMSG.unpack_from(msg)
        one: dict[str, Any] = dict(zip(names, fields[:8], strict=True))
        one["flags"] = fields[8]
        one["attrs"] = _decode(attrs(msg, _RTMSG.size), ROUTE)
        out.append(one)
    return out


def _neigh(nl: RtnlSocket, family: int) -> list[dict[str, Any]]:
    out = []
    for msg in nl.request(RTM_GETNEIGH, NLM_F_DUMP, _NDMSG.pack(family, 0, 0, 0, 0)):
        fam, ifindex, state, flags, ndm_type = _NDMSG.unpack_from(msg)
        if fam != family:
            continue
        out.append(
            {
                "family": fam,
                "ifindex": ifindex,
                "state": state,
                "flags": flags,
                "ndm_type": ndm_type,
                "attrs": _decode(attrs(msg, _NDMSG.size), NEIGH),
            }
        )
    return out


def dump(what: str, nl: RtnlSocket | None = None) -> list[dict[str, Any]]:
    """``links``, ``addresses``, ``routes``, ``neighbours`` or ``fdb`` as compact dicts
    (the attributes the inventory parsers read, decoded as pyroute2 decodes them)."""
    own = nl is None
    sock = RtnlSocket.open() if nl is None else nl
    try:
        if what == "links":
            return _links(sock)
        if what == "addresses":
            return _addresses(sock)
        if what == "routes":
            return _routes(sock)
        if what == "neighbours":
            return _neigh(sock, socket.AF_INET) + _neigh(sock, socket.AF_INET6)
        if what == "fdb":
            return _neigh(sock, 7)  # AF_BRIDGE
        raise ValueError(what)
    finally:
        if own:
            sock.close()


def netnsid(nl: RtnlSocket, fd: int) -> int | None:
    """The id this namespace gives the netns open at ``fd`` (None: not assigned)."""
    body = struct.pack("=Bxxx", 0) + struct.pack("=HHI", 8, NETNSA_FD, fd)
    msgs = nl.request(RTM_GETNSID, 0, body)
    if not msgs:
        return None
    a = attrs(msgs[0], 4)
    nsid = _s32(a[NETNSA_NSID]) if NETNSA_NSID in a else -1
    return nsid if nsid >= 0 else None


# --- nf_tables table names over NETLINK_NETFILTER -----------------------------------
NETLINK_NETFILTER = 12
NFT_MSG_GETTABLE = (10 << 8) | 1  # NFNL_SUBSYS_NFTABLES, NFT_MSG_GETTABLE
NFTA_TABLE_NAME = 1
NFPROTO = {1: "inet", 2: "ip", 3: "arp", 5: "netdev", 7: "bridge", 10: "ip6"}


def nft_tables() -> list[tuple[str, str]]:
    """(family, name) of every nf_tables table, every family."""
    sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_NETFILTER)
    sock.bind((0, 0))
    with RtnlSocket(sock) as nl:
        msgs = nl.request(NFT_MSG_GETTABLE, NLM_F_DUMP, struct.pack("=BBH", 0, 0, 0))
    out = []
    for msg in msgs:
        a = attrs(msg, 4)
        if NFTA_TABLE_NAME in a:
            out.append(
                (NFPROTO.get(msg[0], str(msg[0])), str(_str(a[NFTA_TABLE_NAME])))
            )
    return out


# --- link deletion: move links into a group, delete the group in one operation ------
RTM_DELLINK, RTM_SETLINK = 17, 19
NLM_F_ACK = 0x4


def _nla(kind: int, payload: bytes) -> bytes:
    data = struct.pack("=HH", 4 + len(payload), kind) + payload
    return data + b"\0" * ((-len(data)) % 4)


def set_group(nl: RtnlSocket, index: int, group: int) -> None:
    """Move link ``index`` into link group ``group`` (raises OSError)."""
    body = _IFINFO.pack(0, 0, index, 0, 0) + _nla(IFLA_GROUP, struct.pack("=I", group))
    nl.request(RTM_SETLINK, NLM_F_ACK, body)


def delete_group(nl: RtnlSocket, group: int) -> None:
    """Delete every link in ``group`` in one kernel operation (raises OSError)."""
    body = _IFINFO.pack(0, 0, 0, 0, 0) + _nla(IFLA_GROUP, struct.pack("=I", group))
    nl.request(RTM_DELLINK, NLM_F_ACK, body)


NFT_MSG_GETCHAIN = (10 << 8) | 4
NFTA_CHAIN_TABLE, NFTA_CHAIN_NAME = 1, 3
NFPROTO_IPV4, NFPROTO_IPV6 = 2, 10


def nft_chain_exists(family: int, table: str, chain: str) -> bool:
    """Whether nf_tables has ``chain`` in table ``table`` of IPv``family`` (the kernel
    answers ENOENT for a missing table or chain; any other error raises OSError)."""
    sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_NETFILTER)
    sock.bind((0, 0))
    proto = NFPROTO_IPV6 if family == 6 else NFPROTO_IPV4
    body = struct.pack("=BBH", proto, 0, 0)
    body += _nla(NFTA_CHAIN_TABLE, table.encode() + b"\0")
    body += _nla(NFTA_CHAIN_NAME, chain.encode() + b"\0")
    with RtnlSocket(sock) as nl:
        try:
            return bool(nl.request(NFT_MSG_GETCHAIN, NLM_F_ACK, body))
        except OSError as exc:
            if exc.errno == 2:  # ENOENT
                return False
            raise
