"""kubectl and the official client drive a sandbox cluster (issue #3 acceptance)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from harness.kube import api_client, kubectl, kubectl_json
from harness.providers.base import Cluster
from harness.wait import until

pytestmark = pytest.mark.sandbox


def test_nodes_registered_with_pod_cidrs_and_addresses(
    cp_cluster: Cluster,
) -> None:
    nodes = {
        n["metadata"]["name"]: n
        for n in kubectl_json(cp_cluster, "get", "nodes")["items"]
    }
    assert list(nodes) == [n.name for n in cp_cluster.nodes]
    for index, node in enumerate(cp_cluster.nodes):
        obj = nodes[node.name]
        # kube-controller-manager --allocate-node-cidrs for 10.244.0.0/16, /24 per node
        assert obj["spec"]["podCIDR"] == f"10.244.{index}.0/24"
        assert {"type": "InternalIP", "address": node.address} in obj["status"][
            "addresses"
        ]
        assert obj["metadata"]["labels"]["kubernetes.io/hostname"] == node.name


def test_nodes_not_ready_without_cni_config(cp_cluster: Cluster) -> None:
    # the kubelet's wording for containerd without a CNI config (go-cni ErrCNINotInitialized)
    # fact: flannel-footprint.md §3.5 "No conflist left"
    node = kubectl_json(cp_cluster, "get", "node", cp_cluster.nodes[0].name)
    ready = next(c for c in node["status"]["conditions"] if c["type"] == "Ready")
    assert ready["status"] == "False"
    assert ready["message"].endswith(
        "reason:NetworkPluginNotReady message:Network plugin returns error: "
        "cni plugin not initialized"
    )


def test_annotate_label_and_status_patch(cp_cluster: Cluster) -> None:
    name = cp_cluster.nodes[1].name
    kubectl(
        cp_cluster,
        "annotate",
        "node",
        name,
        "flannel.alpha.coreos.com/public-ip=198.18.0.11",
    )
    kubectl(cp_cluster, "label", "node", name, "role=probe")
    assert kubectl(
        cp_cluster, "get", "nodes", "-l", "role=probe", "-o", "name"
    ).stdout.split() == [f"node/{name}"]
    cond = {
        "type": "NetworkUnavailable",
        "status": "False",
        "reason": "FlannelIsUp",
        "message": "Flannel is running on this node",
    }
    kubectl(
        cp_cluster,
        "patch",
        "node",
        name,
        "--subresource=status",
        "--type=strategic",
        "-p",
        json.dumps({"status": {"conditions": [cond]}}),
    )
    types = [
        c["type"]
        for c in kubectl_json(cp_cluster, "get", "node", name)["status"]["conditions"]
    ]
    assert "NetworkUnavailable" in types and "Ready" in types  # merged by type
    kubectl(cp_cluster, "annotate", "node", name, "flannel.alpha.coreos.com/public-ip-")
    kubectl(cp_cluster, "label", "node", name, "role-")


def test_official_client_sees_the_same_cluster(cp_cluster: Cluster) -> None:
    from kubernetes import client

    core = client.CoreV1Api(api_client(cp_cluster))
    names = [n.metadata.name for n in core.list_node().items]
    assert names == [n.name for n in cp_cluster.nodes]
    worker = core.list_node(label_selector=f"kubernetes.io/hostname={names[1]}").items
    assert [n.metadata.name for n in worker] == [names[1]]


def test_kubeconfig_command_prints_a_usable_path(cp_cluster: Cluster) -> None:
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "harness.cli.main",
            "kubeconfig",
            "--name",
            cp_cluster.name,
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    assert out.stdout.strip() == str(cp_cluster.kubeconfig)


def test_unknown_image_is_err_image_pull(cp_cluster: Cluster) -> None:
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "unknown-image", "namespace": "default"},
        "spec": {
            "hostNetwork": True,
            "nodeName": cp_cluster.nodes[1].name,
            "containers": [{"name": "c", "image": "example.com/nope:1"}],
        },
    }
    kubectl(cp_cluster, "apply", "-f", "-", input=json.dumps(pod))
    try:

        def reason() -> str:
            st = kubectl_json(cp_cluster, "get", "pod", "unknown-image")["status"]
            waiting = st["containerStatuses"][0]["state"].get("waiting", {})
            return (
                waiting.get("reason", "")
                if waiting.get("reason") in ("ErrImagePull", "ImagePullBackOff")
                else ""
            )

        until(reason, timeout=20, what="ErrImagePull")
    finally:
        kubectl(
            cp_cluster, "delete", "pod", "unknown-image", "--wait=true", "--timeout=30s"
        )
