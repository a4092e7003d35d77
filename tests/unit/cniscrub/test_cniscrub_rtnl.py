"""The raw rtnetlink client against a scripted socket: replies matched by sequence
number, errors raised, inconsistent (NLM_F_DUMP_INTR) dumps taken again."""

from __future__ import annotations

import struct

import pytest

from cniscrub.node import rtnl


class ScriptedSocket:
    """Answers the n-th request with the n-th script entry (a list of messages)."""

    def __init__(self, script: list[list[tuple[int, int, bytes]]]) -> None:
        self.script = script
        self.sent: list[bytes] = []
        self.pending: list[bytes] = []

    def send(self, data: bytes) -> None:
        self.sent.append(data)
        seq = struct.unpack_from("=IHHII", data)[3]
        msgs = self.script[len(self.sent) - 1]
        buf = b""
        for kind, flags, payload in msgs:
            hdr = struct.pack("=IHHII", 16 + len(payload), kind, flags, seq, 0)
            buf += hdr + payload + b"\0" * ((-len(payload)) % 4)
        self.pending.append(buf)

    def recv(self, size: int) -> bytes:
        return self.pending.pop(0)

    def close(self) -> None:
        pass


def _link(index: int, name: bytes) -> bytes:
    body = struct.pack("=BxHiII", 0, 1, index, 1, 0)
    nla = struct.pack("=HH", 4 + len(name) + 1, rtnl.IFLA_IFNAME) + name + b"\0"
    return body + nla + b"\0" * ((-len(nla)) % 4)


def test_dump_is_retried_when_the_kernel_marks_it_interrupted() -> None:
    done = (rtnl.NLMSG_DONE, 0, struct.pack("=i", 0))
    sock = ScriptedSocket(
        [
            [(16, rtnl.NLM_F_DUMP_INTR, _link(1, b"lo")), done],
            [(16, 0, _link(1, b"lo")), (16, 0, _link(7, b"cni0")), done],
        ]
    )
    nl = rtnl.RtnlSocket(sock)  # type: ignore[arg-type]
    links = rtnl.dump("links", nl)
    assert [m["attrs"]["IFLA_IFNAME"] for m in links] == ["lo", "cni0"]
    assert len(sock.sent) == 2


def test_error_reply_raises_with_errno() -> None:
    err = (rtnl.NLMSG_ERROR, 0, struct.pack("=i", -19) + b"\0" * 16)
    nl = rtnl.RtnlSocket(ScriptedSocket([[err]]))  # type: ignore[arg-type]
    assert nl.link(42) is None  # ENODEV: no such link
    nl = rtnl.RtnlSocket(ScriptedSocket([[err]]))  # type: ignore[arg-type]
    with pytest.raises(OSError):
        rtnl.set_group(nl, 42, 0x10000001)
