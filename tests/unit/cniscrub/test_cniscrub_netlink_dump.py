"""The pyroute2 dumps against a scripted IPRoute: only the kept attributes decoded,
inconsistent (NLM_F_DUMP_INTR) dumps taken again a bounded number of times, netlink
errors surfaced as OSError."""

from __future__ import annotations

from typing import Any

import pytest
from pyroute2.netlink.exceptions import NetlinkDumpInterrupted, NetlinkError

from cniscrub.node import netlink


class Msg(dict):  # type: ignore[type-arg]
    """What :func:`netlink.selective` reads of a pyroute2 message."""

    def get_attr(self, name: str) -> Any:
        return dict(self["attrs"]).get(name)


def _link(index: int, name: str, flags: int = 0) -> Msg:
    attrs = [("IFLA_IFNAME", name), ("IFLA_MTU", 1500)]
    return Msg(index=index, attrs=attrs, header={"flags": flags})


class ScriptedIPRoute:
    """Answers the n-th ``get_links`` with the n-th script entry."""

    def __init__(self, script: list[Any]) -> None:
        self.script = script
        self.calls = 0

    def get_links(self) -> list[Msg]:
        step = self.script[self.calls]
        self.calls += 1
        if isinstance(step, Exception):
            raise step
        return list(step)


def test_interrupted_dump_is_taken_again() -> None:
    ipr = ScriptedIPRoute(
        [
            [_link(1, "lo", netlink.NLM_F_DUMP_INTR)],
            NetlinkDumpInterrupted(),
            [_link(1, "lo"), _link(2, "eth0")],
        ]
    )
    links = netlink.dump_with(ipr, "links")
    assert ipr.calls == 3
    assert [(m["index"], m["attrs"]) for m in links] == [
        (1, {"IFLA_IFNAME": "lo", "IFLA_MTU": 1500}),
        (2, {"IFLA_IFNAME": "eth0", "IFLA_MTU": 1500}),
    ]


def test_dump_interrupted_every_time_gives_up() -> None:
    ipr = ScriptedIPRoute([[_link(1, "lo", netlink.NLM_F_DUMP_INTR)]] * 10)
    with pytest.raises(OSError, match="interrupted"):
        netlink.dump_with(ipr, "links")
    assert ipr.calls == netlink.DUMP_RETRIES


def test_netlink_error_is_an_oserror() -> None:
    ipr = ScriptedIPRoute([NetlinkError(1, "Operation not permitted")])
    with pytest.raises(OSError) as exc:
        netlink.dump_with(ipr, "links")
    assert exc.value.errno == 1


def test_unknown_kind() -> None:
    with pytest.raises(ValueError):
        netlink.dump_with(ScriptedIPRoute([]), "bogus")


class RecordingIPRoute:
    """Records the requests of ``nlm_request_batch`` and answers from a script."""

    def __init__(self, answers: list[list[Any]]) -> None:
        self.sent: list[Any] = []
        self.answers = answers

    def nlm_request_batch(self, msgs: list[Any]) -> list[Any]:
        self.sent += msgs
        return self.answers.pop(0)


def _ndmsg(ifindex: int, flags: int = 0) -> Any:
    from pyroute2.netlink.rtnl.ndmsg import ndmsg

    msg = ndmsg()
    msg["family"], msg["ifindex"] = 7, ifindex
    msg["header"]["type"], msg["header"]["flags"] = 28, flags  # RTM_NEWNEIGH
    msg["attrs"] = [("NDA_LLADDR", "02:00:00:00:00:01"), ("NDA_DST", "198.18.0.11")]
    return msg


def _done() -> Any:
    from pyroute2.netlink.rtnl.ndmsg import ndmsg

    msg = ndmsg()
    msg["header"]["type"] = 3  # NLMSG_DONE
    return msg


def test_vxlan_devices_are_asked_of_the_kernel_by_kind() -> None:
    from pyroute2.netlink.rtnl.ifinfmsg import ifinfmsg

    answer = ifinfmsg()
    answer["index"] = 6
    answer["header"]["type"] = 16  # RTM_NEWLINK
    ipr = RecordingIPRoute([[answer, _done()]])
    assert netlink.vxlan_indexes(ipr) == [6]
    (msg,) = ipr.sent
    assert msg["header"]["type"] == 18  # RTM_GETLINK
    assert msg["header"]["flags"] == 0x301  # NLM_F_REQUEST | NLM_F_DUMP
    assert msg.get_attr("IFLA_LINKINFO") == {"attrs": [("IFLA_INFO_KIND", "vxlan")]}


def test_fdb_of_one_device_is_filtered_by_the_kernel_and_retried() -> None:
    """AF_BRIDGE with the index in the header (what the kernel filters on under
    NETLINK_GET_STRICT_CHK); an interrupted dump is asked again."""
    ipr = RecordingIPRoute(
        [[_ndmsg(6, netlink.NLM_F_DUMP_INTR), _done()], [_ndmsg(6), _done()]]
    )
    got = netlink.fdb_of(ipr, 6)
    assert [(m["family"], m["ifindex"]) for m in ipr.sent] == [(7, 6), (7, 6)]
    assert all(m["header"]["type"] == 30 for m in ipr.sent)  # RTM_GETNEIGH
    assert got == [
        {
            "family": 7,
            "ifindex": 6,
            "attrs": {"NDA_DST": "198.18.0.11", "NDA_LLADDR": "02:00:00:00:00:01"},
        }
    ]
