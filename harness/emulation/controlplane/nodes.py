"""Node objects of a sandbox cluster, as kubelet registers them and
kube-controller-manager allocates their pod CIDRs (test emulation).

Pod CIDRs follow ``--allocate-node-cidrs`` with cluster CIDR 10.244.0.0/16 and
``--node-cidr-mask-size 24`` in registration order: the control plane gets
10.244.0.0/24, the first worker 10.244.1.0/24, and so on (fact: flannel-footprint.md
§2.1: the kube subnet manager uses ``node.spec.podCIDR`` that kube-controller-manager
sets).

>>> pod_cidr(2)
'10.244.2.0/24'
"""

from __future__ import annotations

import os
import time
import uuid
from typing import Any

from harness.providers.sandbox.node import SandboxNode

CLUSTER_CIDR = "10.244.0.0/16"
KUBELET_VERSION = "v1.32.4"
RUNTIME_VERSIONS = {
    "containerd-1.7": "containerd://1.7.27",
    "containerd-1.6": "containerd://1.6.39",
    "containerd-1.5": "containerd://1.5.18",
    "crio": "cri-o://1.32.4",
    "dockershim": "docker://20.10.24",
}
NOT_READY_MESSAGE = (
    "container runtime network not ready: NetworkReady=false "
    "reason:NetworkPluginNotReady message:Network plugin returns error: "
    "cni plugin not initialized"
)


def pod_cidr(index: int) -> str:
    if not 0 <= index < 256:
        raise ValueError("the 10.244.0.0/16 cluster CIDR holds 256 /24 node ranges")
    return f"10.244.{index}.0/24"


def condition(type: str, status: str, reason: str, message: str) -> dict[str, str]:
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    return {
        "type": type,
        "status": status,
        "reason": reason,
        "message": message,
        "lastHeartbeatTime": stamp,
        "lastTransitionTime": stamp,
    }


def node_object(node: SandboxNode, index: int, runtime: str) -> dict[str, Any]:
    control_plane = node.role == "control-plane"
    labels = {
        "beta.kubernetes.io/arch": "amd64",
        "beta.kubernetes.io/os": "linux",
        "kubernetes.io/arch": "amd64",
        "kubernetes.io/hostname": node.name,
        "kubernetes.io/os": "linux",
    }
    spec: dict[str, Any] = {"podCIDR": pod_cidr(index), "podCIDRs": [pod_cidr(index)]}
    if control_plane:
        labels["node-role.kubernetes.io/control-plane"] = ""
        spec["taints"] = [
            {"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}
        ]
    ok = [
        ("MemoryPressure", "KubeletHasSufficientMemory"),
        ("DiskPressure", "KubeletHasNoDiskPressure"),
        ("PIDPressure", "KubeletHasSufficientPID"),
    ]
    conditions = [condition(t, "False", r, f"kubelet has {r[10:]}") for t, r in ok]
    conditions.append(condition("Ready", "False", "KubeletNotReady", NOT_READY_MESSAGE))
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": node.name,
            "labels": labels,
            "annotations": {"node.alpha.kubernetes.io/ttl": "0"},
        },
        "spec": spec,
        "status": {
            "addresses": [
                {"type": "InternalIP", "address": node.address},
                {"type": "Hostname", "address": node.name},
            ],
            "conditions": conditions,
            "nodeInfo": {
                "kubeletVersion": KUBELET_VERSION,
                "kubeProxyVersion": KUBELET_VERSION,
                "containerRuntimeVersion": RUNTIME_VERSIONS.get(runtime, runtime),
                "operatingSystem": "linux",
                "architecture": "amd64",
                "osImage": "cniscrub sandbox node",
                "kernelVersion": os.uname().release,
                "machineID": uuid.uuid5(uuid.NAMESPACE_DNS, node.name).hex,
                "systemUUID": str(uuid.uuid5(uuid.NAMESPACE_URL, node.name)),
                "bootID": str(uuid.uuid4()),
            },
            "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
            "capacity": {"cpu": "2", "memory": "4Gi", "pods": "110"},
            "allocatable": {"cpu": "2", "memory": "4Gi", "pods": "110"},
        },
    }
