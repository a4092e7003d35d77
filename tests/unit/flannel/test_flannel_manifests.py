"""Manifest facts per version (fact: flannel-footprint.md §1)."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml

from harness.emulation.flannel.image import FlannelCNIPluginImage, FlannelImage
from harness.emulation.images import resolve
from harness.matrix import flannel_versions, manifest_path

VERSIONS = flannel_versions()

# fact: flannel-footprint.md §1.4 (images per tag)
IMAGES = {
    "v0.24.4": (
        "docker.io/flannel/flannel-cni-plugin:v1.4.0-flannel1",
        "docker.io/flannel/flannel:v0.24.4",
    ),
    "v0.26.7": (
        "ghcr.io/flannel-io/flannel-cni-plugin:v1.6.2-flannel1",
        "ghcr.io/flannel-io/flannel:v0.26.7",
    ),
    "v0.27.3": (
        "ghcr.io/flannel-io/flannel-cni-plugin:v1.7.1-flannel1",
        "ghcr.io/flannel-io/flannel:v0.27.3",
    ),
    "v0.28.9": (
        "ghcr.io/flannel-io/flannel-cni-plugin:v1.9.1-flannel3",
        "ghcr.io/flannel-io/flannel:v0.28.9",
    ),
}


def load(version: str) -> dict[str, dict[str, Any]]:
    docs = yaml.safe_load_all(manifest_path(version).read_text())
    return {d["kind"]: d for d in docs if d}


def pod(version: str) -> dict[str, Any]:
    spec: dict[str, Any] = load(version)["DaemonSet"]["spec"]["template"]["spec"]
    return spec


@pytest.mark.parametrize("version", VERSIONS)
def test_resources_names_and_labels(version: str) -> None:
    # fact: flannel-footprint.md §1.1
    m = load(version)
    assert sorted(m) == sorted(
        [
            "Namespace",
            "ClusterRole",
            "ClusterRoleBinding",
            "ServiceAccount",
            "ConfigMap",
            "DaemonSet",
        ]
    )
    ns = m["Namespace"]["metadata"]
    assert ns["name"] == "kube-flannel"
    assert ns["labels"] == {
        "k8s-app": "flannel",
        "pod-security.kubernetes.io/enforce": "privileged",
    }
    assert m["ClusterRole"]["metadata"]["name"] == "flannel"
    crb = m["ClusterRoleBinding"]
    assert crb["roleRef"]["name"] == "flannel"
    assert crb["subjects"] == [
        {"kind": "ServiceAccount", "name": "flannel", "namespace": "kube-flannel"}
    ]
    assert m["ServiceAccount"]["metadata"]["namespace"] == "kube-flannel"
    cm = m["ConfigMap"]["metadata"]
    assert (cm["name"], cm["namespace"]) == ("kube-flannel-cfg", "kube-flannel")
    assert cm["labels"] == {"tier": "node", "k8s-app": "flannel", "app": "flannel"}
    ds = m["DaemonSet"]
    assert ds["metadata"]["name"] == "kube-flannel-ds"
    assert ds["metadata"]["labels"] == {
        "tier": "node",
        "app": "flannel",
        "k8s-app": "flannel",
    }
    assert ds["spec"]["selector"] == {"matchLabels": {"app": "flannel"}}
    assert ds["spec"]["template"]["metadata"]["labels"] == {
        "tier": "node",
        "app": "flannel",
    }


@pytest.mark.parametrize("version", VERSIONS)
def test_rbac_rules(version: str) -> None:
    # fact: flannel-footprint.md §1.1 (clustercidrs only v0.22.0-v0.24.4), §1.5
    rules = load(version)["ClusterRole"]["rules"]
    flat = {
        (r["apiGroups"][0], res): r["verbs"] for r in rules for res in r["resources"]
    }
    assert flat[("", "pods")] == ["get"]
    assert flat[("", "nodes")] == ["get", "list", "watch"]
    assert flat[("", "nodes/status")] == ["patch"]
    cidrs = flat.get(("networking.k8s.io", "clustercidrs"))
    assert cidrs == (["list", "watch"] if version == "v0.24.4" else None)


@pytest.mark.parametrize("version", VERSIONS)
def test_configmap(version: str) -> None:
    # fact: flannel-footprint.md §1.2
    data = load(version)["ConfigMap"]["data"]
    assert json.loads(data["cni-conf.json"]) == {
        "name": "cbr0",
        "cniVersion": "0.3.1",
        "plugins": [
            {
                "type": "flannel",
                "delegate": {"hairpinMode": True, "isDefaultGateway": True},
            },
            {"type": "portmap", "capabilities": {"portMappings": True}},
        ],
    }
    expected = {"Network": "10.244.0.0/16", "Backend": {"Type": "vxlan"}}
    if version != "v0.24.4":  # EnableNFTables from v0.25.0
        expected["EnableNFTables"] = False
    assert json.loads(data["net-conf.json"]) == expected


@pytest.mark.parametrize("version", VERSIONS)
def test_pod_spec_and_images(version: str) -> None:
    # fact: flannel-footprint.md §1.3, §1.4
    spec = pod(version)
    assert spec["hostNetwork"] is True
    assert spec["priorityClassName"] == "system-node-critical"
    assert spec["tolerations"] == [{"operator": "Exists", "effect": "NoSchedule"}]
    assert spec["serviceAccountName"] == "flannel"
    term = spec["affinity"]["nodeAffinity"][
        "requiredDuringSchedulingIgnoredDuringExecution"
    ]
    assert term["nodeSelectorTerms"][0]["matchExpressions"] == [
        {"key": "kubernetes.io/os", "operator": "In", "values": ["linux"]}
    ]
    plugin_img, flannel_img = IMAGES[version]
    init = spec["initContainers"]
    assert [c["name"] for c in init] == ["install-cni-plugin", "install-cni"]
    assert init[0]["image"] == plugin_img
    assert init[1]["image"] == flannel_img
    assert spec["containers"][0]["image"] == flannel_img
    # the harness can resolve a handler for every image
    assert isinstance(resolve(plugin_img), FlannelCNIPluginImage)
    assert isinstance(resolve(flannel_img), FlannelImage)


@pytest.mark.parametrize("version", VERSIONS)
def test_init_container_commands(version: str) -> None:
    # fact: flannel-footprint.md §1.3 (install-conf from v0.28.6)
    init = pod(version)["initContainers"]
    argv = [c["command"] + c.get("args", []) for c in init]
    assert argv[0] == ["cp", "-f", "/flannel", "/opt/cni/bin/flannel"]
    src, dst = "/etc/kube-flannel/cni-conf.json", "/etc/cni/net.d/10-flannel.conflist"
    if version == "v0.28.9":
        assert argv[1] == ["/opt/bin/install-conf", src, dst]
    else:
        assert argv[1] == ["cp", "-f", src, dst]
    assert init[0]["volumeMounts"] == [
        {"name": "cni-plugin", "mountPath": "/opt/cni/bin"}
    ]
    assert init[1]["volumeMounts"] == [
        {"name": "cni", "mountPath": "/etc/cni/net.d"},
        {"name": "flannel-cfg", "mountPath": "/etc/kube-flannel/"},
    ]


@pytest.mark.parametrize("version", VERSIONS)
def test_main_container(version: str) -> None:
    # fact: flannel-footprint.md §1.3 (env from v0.27.4, probes from v0.28.9)
    c = pod(version)["containers"][0]
    assert c["name"] == "kube-flannel"
    args = ["--ip-masq", "--kube-subnet-mgr"]
    if version == "v0.28.9":
        args.append("--healthz-port=8081")
    assert c["command"] + c["args"] == ["/opt/bin/flanneld", *args]
    assert c["securityContext"] == {
        "privileged": False,
        "capabilities": {"add": ["NET_ADMIN", "NET_RAW"]},
    }
    assert c["resources"] == {"requests": {"cpu": "100m", "memory": "50Mi"}}
    env = {e["name"]: e.get("value", e.get("valueFrom")) for e in c["env"]}
    assert env["POD_NAME"] == {"fieldRef": {"fieldPath": "metadata.name"}}
    assert env["POD_NAMESPACE"] == {"fieldRef": {"fieldPath": "metadata.namespace"}}
    assert env["EVENT_QUEUE_DEPTH"] == "5000"
    assert env.get("CONT_WHEN_CACHE_NOT_READY") == (
        "false" if version == "v0.28.9" else None
    )
    if version == "v0.28.9":
        assert c["ports"] == [
            {"name": "healthz", "containerPort": 8081, "protocol": "TCP"}
        ]
        assert c["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "healthz"}
        assert c["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "healthz"}
    else:
        assert "livenessProbe" not in c
        assert "readinessProbe" not in c
    assert c["volumeMounts"] == [
        {"name": "run", "mountPath": "/run/flannel"},
        {"name": "flannel-cfg", "mountPath": "/etc/kube-flannel/"},
        {"name": "xtables-lock", "mountPath": "/run/xtables.lock"},
    ]


@pytest.mark.parametrize("version", VERSIONS)
def test_volumes(version: str) -> None:
    # fact: flannel-footprint.md §1.3 (volumes table)
    assert pod(version)["volumes"] == [
        {"name": "run", "hostPath": {"path": "/run/flannel"}},
        {"name": "cni-plugin", "hostPath": {"path": "/opt/cni/bin"}},
        {"name": "cni", "hostPath": {"path": "/etc/cni/net.d"}},
        {"name": "flannel-cfg", "configMap": {"name": "kube-flannel-cfg"}},
        {
            "name": "xtables-lock",
            "hostPath": {"path": "/run/xtables.lock", "type": "FileOrCreate"},
        },
    ]
