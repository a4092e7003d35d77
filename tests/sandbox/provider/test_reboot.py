"""Reboot treats CNI state exactly as a real reboot does (issue #2 acceptance).

Gone: processes, links, routes, neighbours, iptables/nft rules, everything in /run.
Kept: /etc, /opt, /var (fact: harness-anchors.md §8 "Reboot simulation": /run is tmpfs,
the netns is destroyed, /etc/cni/net.d, /opt/cni/bin and /var/lib/cni survive).
"""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = [pytest.mark.sandbox, pytest.mark.destructive]


@pytest.fixture
def small(cluster_factory) -> Any:  # type: ignore[no-untyped-def]
    return cluster_factory(nodes=2)


def _dirty(node) -> None:  # type: ignore[no-untyped-def]
    node.exec(["ip", "link", "add", "cni0", "type", "bridge"])
    node.exec(["ip", "addr", "add", "10.244.1.1/24", "dev", "cni0"])
    node.exec(["ip", "link", "set", "cni0", "up"])
    node.exec(["ip", "route", "add", "10.244.9.0/24", "via", "198.18.0.10"])
    node.exec(
        [
            "ip",
            "neigh",
            "add",
            "10.244.1.7",
            "lladdr",
            "aa:bb:cc:00:00:01",
            "dev",
            "cni0",
            "nud",
            "permanent",
        ]
    )
    node.exec(["iptables", "-t", "nat", "-N", "FLANNEL-POSTRTG"])
    node.exec(["iptables", "-A", "FORWARD", "-s", "10.244.0.0/16", "-j", "ACCEPT"])
    node.exec(["nft", "add", "table", "ip", "flannel-ipv4"])
    node.write_file("/run/flannel/subnet.env", "FLANNEL_NETWORK=10.244.0.0/16\n")
    node.write_file("/etc/cni/net.d/10-flannel.conflist", '{"name": "cbr0"}')
    node.write_file("/opt/cni/bin/flannel", "#!/bin/sh\n", mode=0o755)
    node.write_file("/var/lib/cni/networks/cbr0/10.244.1.2", "abc\r\neth0")
    node.exec(["sh", "-c", "sleep 300 & echo started"])


def test_reboot_wipes_kernel_state_and_run_but_keeps_disk(
    small: Any,
) -> None:
    node = small.nodes[1]
    _dirty(node)
    old_pid = node.pid
    node.reboot()
    assert node.pid != old_pid
    host = node.host
    assert not host.interface("cni0").exists
    assert "10.244.9.0" not in node.exec(["ip", "route"]).stdout
    assert node.exec(["ip", "neigh", "show", "nud", "permanent"]).stdout == ""
    assert "FLANNEL" not in node.exec(["iptables-save"]).stdout
    assert "10.244.0.0/16" not in node.exec(["iptables-save"]).stdout
    assert node.exec(["nft", "list", "tables"]).stdout.strip() == ""
    assert node.exec(["ls", "-A", "/run"]).stdout.split() == ["lock", "netns"]
    assert "sleep" not in node.exec(["ps", "-eo", "comm"]).stdout
    assert (
        host.file("/etc/cni/net.d/10-flannel.conflist").content_string
        == '{"name": "cbr0"}'
    )
    assert host.file("/opt/cni/bin/flannel").mode == 0o755
    assert host.file("/var/lib/cni/networks/cbr0/10.244.1.2").exists
    assert small.node(node.name).record.boot == 1


def test_node_works_after_reboot(small: Any) -> None:
    node, other = small.nodes[1], small.nodes[0]
    node.reboot()
    node.reboot()
    assert node.exec(["hostname"]).stdout.strip() == node.name
    node.exec(["ping", "-c", "1", "-W", "2", other.address], timeout=10)
    other.exec(["ping", "-c", "1", "-W", "2", node.address], timeout=10)


def test_the_gateway_keeps_its_mac_when_a_node_reboots(small: Any) -> None:
    """The fabric bridge's MAC is fixed, not inherited from a port that a reboot
    replaces: the other nodes' neighbour entry for the gateway stays right, and they
    reach it (the API's in-cluster endpoint) at once after every reboot."""
    from harness.providers.sandbox.underlay import GATEWAY, GATEWAY_MAC

    node, other = small.nodes[1], small.nodes[0]
    for _ in range(3):
        other.exec(["ping", "-c", "1", "-W", "2", GATEWAY], timeout=10)
        node.reboot()
        neigh = other.exec(["ip", "neigh", "show", GATEWAY]).stdout
        assert f"lladdr {GATEWAY_MAC}" in neigh, neigh
        other.exec(["ping", "-c", "1", "-W", "1", GATEWAY], timeout=10)
        node.exec(["ping", "-c", "1", "-W", "2", GATEWAY], timeout=10)


def test_reboot_seen_by_another_process(small: Any, sandbox_provider) -> None:  # type: ignore[no-untyped-def]
    same = sandbox_provider.get(small.name)
    small.nodes[1].reboot()
    assert same.nodes[1].exec(["hostname"]).stdout.strip() == small.nodes[1].name


def test_stop_kills_every_process_of_the_node_and_keeps_its_disk(small: Any) -> None:
    from harness.providers.sandbox.state import ProcRef
    from harness.providers.sandbox.teardown import marked_processes, namespaces_of

    node, other = small.nodes[1], small.nodes[0]
    _dirty(node)
    holder = node.record.holder
    node_procs = [
        ProcRef.of(pid)
        for pid in marked_processes()
        if namespaces_of([pid]) & namespaces_of([node.pid])
    ]
    assert len(node_procs) >= 3  # keeper, holder, the sleep (and nsenter'd children)
    node.stop()
    assert not holder.alive()
    assert small.node(node.name).record.stopped
    assert [p.pid for p in node_procs if p.alive()] == []  # gone (or zombies)
    upper = small.state_dir / "nodes" / node.name / "upper"
    assert (upper / "etc/cni/net.d/10-flannel.conflist").exists()  # disk kept
    assert other.exec(["true"]).ok  # the other nodes run on
    node.start()
    assert node.record.boot == 1 and not node.record.stopped
    assert node.host.file("/etc/cni/net.d/10-flannel.conflist").exists
    assert not node.host.file("/run/flannel/subnet.env").exists
    node.exec(["ping", "-c", "1", "-W", "2", other.address], timeout=10)
