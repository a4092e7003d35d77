"""Light nodes keep the ``Node`` promises that make sense for one namespace: exec with
results and errors, a file view that ``exec``, ``read_file``/``write_file``, testinfra
and ``--root`` agree on, and a clear refusal to reboot or power off."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from harness import checks
from harness.providers.base import CommandError, CommandResult, Node
from harness.providers.light import CREATED, LightNode, leftovers

pytestmark = pytest.mark.sandbox


@pytest.fixture
def light(tmp_path: Path) -> Iterator[LightNode]:
    node = LightNode.create(tmp_path / "root")
    try:
        yield node
    finally:
        node.destroy()


def test_is_a_node_with_exec_results_and_errors(light: LightNode) -> None:
    assert isinstance(light, Node)
    res = light.exec(["sh", "-c", "cat; echo err >&2"], input=b"in\n")
    assert isinstance(res, CommandResult) and (res.stdout, res.stderr) == (
        "in\n",
        "err\n",
    )
    assert light.exec(["ip", "-o", "link"]).stdout.count(": lo:") == 1  # its own netns
    with pytest.raises(CommandError) as err:
        light.exec(["sh", "-c", "exit 5"])
    assert err.value.result.rc == 5
    with pytest.raises(CommandError, match="timed out"):
        light.exec(["sleep", "30"], timeout=0.3)


def test_one_file_view_for_exec_files_testinfra_and_root(light: LightNode) -> None:
    light.write_file("/etc/cni/net.d/10-flannel.conflist", "{}", mode=0o600)
    assert light.exec(["cat", "/etc/cni/net.d/10-flannel.conflist"]).stdout == "{}"
    assert light.host.file("/etc/cni/net.d/10-flannel.conflist").mode == 0o600
    light.exec(["sh", "-c", "mkdir -p /run/flannel; echo x > /run/flannel/subnet.env"])
    assert light.read_file("/run/flannel/subnet.env") == b"x\n"
    assert (light.root / "run/flannel/subnet.env").exists()  # what --root ROOT sees
    assert not Path("/run/flannel/subnet.env").exists() or (
        Path("/run/flannel/subnet.env").read_bytes() != b"x\n"
    )  # never the host's /run
    light.exec(["rm", "/etc/cni/net.d/10-flannel.conflist"])
    assert not checks.exists(light, "/etc/cni/net.d/10-flannel.conflist")
    with pytest.raises(FileNotFoundError):
        light.read_file("/etc/cni/net.d/10-flannel.conflist")
    assert checks.exists(light, "/etc/passwd")  # the host's files show through
    with pytest.raises(ValueError, match="owns only"):
        light.write_file("/usr/bin/x", "no")


@pytest.mark.parametrize("verb", ["reboot", "stop", "start"])
def test_refuses_what_only_a_machine_can_do(light: LightNode, verb: str) -> None:
    with pytest.raises(NotImplementedError, match="use a cluster node"):
        getattr(light, verb)()


def test_the_leak_check_sees_a_namespace_left_behind(tmp_path: Path) -> None:
    node = LightNode.create(tmp_path / "leak")
    try:
        assert node.ns in leftovers()
        assert node.ns in CREATED
    finally:
        node.destroy()
    assert node.ns not in leftovers()
