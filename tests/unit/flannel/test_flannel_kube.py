"""The flanneld kube subnet manager against the real API stand-in (no network ns).

Facts: flannel-footprint.md §2.1 (podCIDR from the Node), §2.7 (annotations and the
NetworkUnavailable condition via the status subresource; peers from Node leases).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from harness.emulation.apiserver.kubeconfig import write_kubeconfig
from harness.emulation.apiserver.threaded import ThreadedServer
from harness.emulation.flannel.kube import KubeNodeSource, api_client
from harness.emulation.flannel.model import Peer

A = "flannel.alpha.coreos.com/"


def node(
    name: str, cidr: str, annotations: dict[str, str] | None = None
) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name, "annotations": annotations or {}},
        "spec": {"podCIDR": cidr, "podCIDRs": [cidr]},
    }


LEASE = {
    A + "backend-type": "vxlan",
    A + "backend-data": '{"VNI":1,"VtepMAC":"aa:bb:cc:00:00:02"}',
    A + "public-ip": "198.18.0.2",
    A + "kube-subnet-manager": "true",
}


@pytest.fixture
def server() -> Iterator[ThreadedServer]:
    s = ThreadedServer("127.0.0.1", 0).start()
    try:
        yield s
    finally:
        s.stop()


@pytest.fixture
def source(server: ThreadedServer, tmp_path: Path) -> KubeNodeSource:
    server.call(server.store.create, "nodes", node("n1", "10.244.1.0/24"))
    kubeconfig = write_kubeconfig(tmp_path / "kubeconfig", server.url, "flannel-test")
    return KubeNodeSource(api_client(str(kubeconfig), {}, ""), "n1")


def test_local_node_pod_cidr(source: KubeNodeSource) -> None:
    # fact: flannel-footprint.md §2.1 (node.spec.podCIDR is the lease)
    local = source.local_node()
    assert (local.name, local.pod_cidr, local.pod_cidr_v6) == (
        "n1",
        "10.244.1.0/24",
        "",
    )


def test_publish_annotations_and_condition(
    source: KubeNodeSource, server: ThreadedServer
) -> None:
    # fact: flannel-footprint.md §2.7 (annotations + FlannelIsUp via nodes/status)
    ann = {**LEASE, A + "public-ip": "198.18.0.1"}
    source.publish(ann)
    source.set_condition()
    stored = server.call(server.store.get, "nodes", "n1")
    assert {
        k: v for k, v in stored["metadata"]["annotations"].items() if k.startswith(A)
    } == ann
    conds = [
        c for c in stored["status"]["conditions"] if c["type"] == "NetworkUnavailable"
    ]
    assert len(conds) == 1
    c = conds[0]
    assert (c["status"], c["reason"], c["message"]) == (
        "False",
        "FlannelIsUp",
        "Flannel is running on this node",
    )


def test_status_subresource_keeps_annotations(
    source: KubeNodeSource, server: ThreadedServer
) -> None:
    # fact: flannel-footprint.md §2.7 (annotations patched through nodes/status)
    from kubernetes import client

    v1 = client.CoreV1Api(source._api_client)
    body = {"metadata": {"annotations": LEASE}}
    v1.patch_node_status(
        "n1", body, _content_type="application/strategic-merge-patch+json"
    )
    stored = server.call(server.store.get, "nodes", "n1")
    assert (
        stored["metadata"].get("annotations", {}).get(A + "public-ip") == "198.18.0.2"
    )


def test_watch_reports_peer_leases(
    source: KubeNodeSource, server: ThreadedServer
) -> None:
    # fact: flannel-footprint.md §2.7 (kube-subnet-manager marks a lease), §2.3
    seen: list[list[Peer]] = []
    stop = threading.Event()
    t = threading.Thread(target=source.watch, args=(seen.append, stop), daemon=True)
    t.start()
    try:
        server.call(
            server.store.create, "nodes", node("n3", "10.244.3.0/24")
        )  # no lease
        server.call(server.store.create, "nodes", node("n2", "10.244.2.0/24", LEASE))

        def last() -> list[Peer] | None:
            return seen[-1] if seen else None

        deadline = time.monotonic() + 10
        while last() != [
            Peer("n2", "10.244.2.0/24", "198.18.0.2", "aa:bb:cc:00:00:02")
        ]:
            assert time.monotonic() < deadline, f"peers seen: {seen}"
            time.sleep(0.05)
        server.call(server.store.delete, "nodes", "n2")
        deadline = time.monotonic() + 10
        while last() != []:
            assert time.monotonic() < deadline, f"peers seen: {seen}"
            time.sleep(0.05)
    finally:
        stop.set()
        t.join(timeout=10)
    assert not t.is_alive()
