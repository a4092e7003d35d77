"""The netlink child's protocol and its failure modes: whatever goes wrong with the
child, ``take`` answers None (the caller then reads in its own process) and the child
is gone afterwards."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import pytest

from cniscrub.node import netlink_child
from cniscrub.node.netlink_child import DumpChild, parse_line


def _fake_child(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, body: str) -> None:
    """Make DumpChild run a shell script (it ignores the -m arguments)."""
    script = tmp_path / "fake-python"
    script.write_text("#!/bin/sh\n" + body)
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setattr(sys, "executable", str(script))


def test_parse_line() -> None:
    assert parse_line(b'{"section": "fdb", "data": [1]}') == ("fdb", [1])
    for bad in (b"[]", b'{"section": "bogus", "data": 1}', b"{"):
        with pytest.raises(ValueError):
            parse_line(bad)


def test_unknown_section_is_refused() -> None:
    with pytest.raises(ValueError):
        DumpChild(("routes", "bogus"))


def test_no_interpreter_means_none(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "executable", "/nonexistent/python")
    assert DumpChild(("routes",)).take("routes") is None


def test_sections_in_any_order_are_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fake_child(
        tmp_path,
        monkeypatch,
        'echo \'{"section": "link-tables", "data": {"fdb": []}}\'\n'
        'echo \'{"section": "routes", "data": [{"family": 2}]}\'\n',
    )
    child = DumpChild(("routes", "link-tables"))
    assert child.take("routes") == [{"family": 2}]
    assert child.take("link-tables") == {"fdb": []}
    child.close()


@pytest.mark.parametrize(
    "body", ["echo garbage\n", "exit 3\n", 'printf \'{"section": "routes"\'\n']
)
def test_garbage_crash_or_torn_line_means_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, body: str
) -> None:
    _fake_child(tmp_path, monkeypatch, body)
    child = DumpChild(("routes",))
    assert child.take("routes") is None
    assert child.take("routes") is None  # and stays so


def test_a_hanging_child_is_killed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pidfile = tmp_path / "pid"
    _fake_child(tmp_path, monkeypatch, f"echo $$ > {pidfile}\nexec sleep 30\n")
    monkeypatch.setattr(netlink_child, "TIMEOUT", 0.5)
    child = DumpChild(("routes",))
    assert child.take("routes") is None
    pid = int(pidfile.read_text())
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_child_main_refuses_bad_arguments(capsys: pytest.CaptureFixture[str]) -> None:
    assert netlink_child.main(["bogus"]) == 2
    assert "usage" in capsys.readouterr().err


def test_a_section_not_asked_for_is_none_and_keeps_the_child(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fake_child(
        tmp_path, monkeypatch, 'echo \'{"section": "link-tables", "data": {}}\'\n'
    )
    child = DumpChild(("link-tables",))
    assert child.take("routes") is None
    assert child.take("link-tables") == {}
    child.close()
