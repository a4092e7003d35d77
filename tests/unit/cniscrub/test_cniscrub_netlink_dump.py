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
