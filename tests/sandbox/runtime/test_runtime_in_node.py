"""The runtime emulation inside a real sandbox node (default paths, all namespaces)."""

from __future__ import annotations

import json
import secrets
import sys
from typing import Any

import pytest
from rtnode import REPO

pytestmark = pytest.mark.sandbox

# the runtime imports the standard library only: -S skips site (~60-100 ms per call)
RUNTIME = [sys.executable, "-S", "-m", "harness.emulation.runtime"]
ENV = {"PYTHONPATH": str(REPO)}
CONF = {
    "name": "cbr0",
    "cniVersion": "0.3.1",
    "plugins": [
        {
            "type": "bridge",
            "bridge": "cni0",
            "isGateway": True,
            "ipam": {"type": "host-local", "ranges": [[{"subnet": "10.244.1.0/24"}]]},
        },
        {"type": "portmap", "capabilities": {"portMappings": True}},
    ],
}


def test_add_and_del_inside_a_sandbox_node(cluster_factory: Any) -> None:
    cluster = cluster_factory(nodes=1, control_plane=False)
    node = cluster.nodes[0]

    def cli(*args: str) -> dict[str, Any]:
        out: dict[str, Any] = json.loads(node.exec([*RUNTIME, *args], env=ENV).stdout)
        return out

    assert cli("status")["message"].endswith("cni plugin not initialized")
    node.write_file("/etc/cni/net.d/10-cbr0.conflist", json.dumps(CONF))
    assert cli("status")["ready"] is True
    sids = [secrets.token_hex(32) for _ in range(2)]
    pods = [
        cli("add", "--sandbox-id", sid, "--pod-name", f"p{i}", "--pod-namespace",
            "default", "--pod-uid", f"u{i}")
        for i, sid in enumerate(sids)
    ]  # fmt: skip
    assert [p["ips"] for p in pods] == [["10.244.1.2/24"], ["10.244.1.3/24"]], pods
    assert pods[0]["netns"].startswith("/run/netns/cni-")
    name = pods[0]["netns"].rsplit("/", 1)[1]
    ping = node.exec(
        ["ip", "netns", "exec", name, "ping", "-c1", "-W2", "10.244.1.3"], check=False
    )
    assert ping.ok, ping.stdout + ping.stderr
    results = node.exec(["ls", "/var/lib/cni/results"]).stdout.split()
    assert f"cbr0-{sids[0]}-eth0" in results
    assert f"cni-loopback-{sids[0]}-lo" in results
    for sid in sids:
        assert cli("del", "--sandbox-id", sid)["ok"] is True
    assert node.exec(["ls", "/run/netns"]).stdout.split() == []
    assert node.exec(["ls", "/var/lib/cni/results"]).stdout.split() == []
    assert "cni0" in node.exec(["ip", "-br", "link"]).stdout
