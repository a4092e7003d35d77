"""Nodes are isolated from each other and from the host (issue #2 acceptance)."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.sandbox


def test_hostname_is_the_node_name(cluster: Any) -> None:
    for node in cluster.nodes:
        assert node.exec(["hostname"]).stdout.strip() == node.name
    assert socket.gethostname() not in {n.name for n in cluster.nodes}


def test_kind_style_node_names(cluster: Any) -> None:
    names = [n.name for n in cluster.nodes]
    assert names[0] == f"{cluster.name}-control-plane"
    assert names[1:3] == [f"{cluster.name}-worker", f"{cluster.name}-worker2"]
    assert [n.role for n in cluster.nodes][:2] == ["control-plane", "worker"]


def test_cni_conf_written_in_one_node_is_invisible_elsewhere(
    cluster: Any,
) -> None:
    a, b = cluster.nodes[0], cluster.nodes[1]
    path = "/etc/cni/net.d/99-isolation-probe.conflist"
    a.write_file(path, '{"name": "probe"}')
    try:
        assert a.read_file(path) == b'{"name": "probe"}'
        assert not b.host.file(path).exists
        assert not Path(path).exists()  # the host's own /etc
    finally:
        a.exec(["rm", "-f", path])


def test_host_cni_state_does_not_leak_into_nodes(cluster: Any) -> None:
    node = cluster.nodes[1]
    assert node.exec(["ls", "-A", "/etc/cni/net.d"]).stdout == ""
    assert node.exec(["ls", "-A", "/var/lib/cni"]).stdout == ""


def test_link_created_in_a_node_exists_only_there(cluster: Any) -> None:
    a, b = cluster.nodes[0], cluster.nodes[1]
    a.exec(["ip", "link", "add", "probe0", "type", "bridge"])
    try:
        assert a.host.interface("probe0").exists
        assert not b.host.interface("probe0").exists
        assert not Path("/sys/class/net/probe0").exists()  # not on the host
    finally:
        a.exec(["ip", "link", "del", "probe0"])


def test_ps_shows_only_the_nodes_processes(cluster: Any) -> None:
    out = cluster.nodes[0].exec(["ps", "-eo", "pid,comm"]).stdout.split("\n")[1:]
    pids = [int(line.split()[0]) for line in out if line.strip()]
    assert 1 in pids and len(pids) < 10, out


def test_reference_cni_plugins_in_opt_cni_bin(cluster: Any) -> None:
    # like a kubeadm node with the kubernetes-cni package (fact: harness-anchors.md §8)
    listing = set(cluster.nodes[0].exec(["ls", "/opt/cni/bin"]).stdout.split())
    assert {"bridge", "host-local", "loopback", "portmap"} <= listing
    assert "flannel" not in listing


def test_node_api_errors_carry_argv_and_output(cluster: Any) -> None:
    from cniscrub.node.command import CommandError

    with pytest.raises(CommandError) as err:
        cluster.nodes[0].exec(["ls", "/does-not-exist"])
    assert err.value.argv == ("ls", "/does-not-exist")
    assert "No such file" in str(err.value) and "ls /does-not-exist" in str(err.value)
    with pytest.raises(TypeError):
        cluster.nodes[0].exec("ls /")  # type: ignore[arg-type]


def test_exec_passes_input(cluster: Any) -> None:
    assert cluster.nodes[0].exec(["cat"], input="hello").stdout == "hello"
