"""The pyroute2 dumps against a scripted IPRoute: only the kept attributes decoded,
inconsistent (NLM_F_DUMP_INTR) dumps taken again a bounded number of times, netlink
errors surfaced as OSError, per-device neighbour/FDB dumps asking the kernel to
filter."""

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
    """Records the messages of ``nlm_request_batch`` and answers each with one entry
    plus the NLMSG_DONE that pyroute2 passes through."""

    def __init__(self) -> None:
        self.sent: list[Any] = []

    def nlm_request_batch(self, msgs: list[Any]) -> list[Any]:
        from pyroute2.netlink.rtnl.ndmsg import ndmsg

        self.sent += msgs
        entry = ndmsg()
        entry["family"] = msgs[0]["family"]
        entry["ifindex"] = 6
        entry["header"]["type"] = 28  # RTM_NEWNEIGH
        entry["attrs"] = [("NDA_LLADDR", "02:00:00:00:00:01")]
        done = ndmsg()
        done["header"]["type"] = 3  # NLMSG_DONE
        return [entry, done]


def test_fdb_of_one_device_is_filtered_by_the_kernel() -> None:
    """FDB dump for one ifindex: AF_BRIDGE with the index in the header (what the
    kernel filters on under NETLINK_GET_STRICT_CHK), a dump request."""
    ipr = RecordingIPRoute()
    got = netlink.dump_with(ipr, "fdb", index=6)
    (msg,) = ipr.sent
    assert (msg["family"], msg["ifindex"]) == (7, 6)
    assert msg["header"]["type"] == 30  # RTM_GETNEIGH
    assert msg["header"]["flags"] == 0x301  # NLM_F_REQUEST | NLM_F_DUMP
    assert got == [
        {"family": 7, "ifindex": 6, "attrs": {"NDA_LLADDR": "02:00:00:00:00:01"}}
    ]  # the NLMSG_DONE is not an entry


def test_neighbours_of_one_device_ask_by_nda_ifindex_for_both_families() -> None:
    ipr = RecordingIPRoute()
    got = netlink.dump_with(ipr, "neighbours", index=6)
    assert [m["family"] for m in ipr.sent] == [2, 10]
    assert all(m["ifindex"] == 0 for m in ipr.sent)  # strict check refuses it
    assert all(m.get_attr("NDA_IFINDEX") == 6 for m in ipr.sent)
    assert len(got) == 2


def test_index_filter_only_for_neighbours_and_fdb() -> None:
    with pytest.raises(ValueError):
        netlink.dump_with(RecordingIPRoute(), "links", index=6)
