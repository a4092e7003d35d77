"""The kind cluster config the provider creates clusters with.

No default CNI (``disableDefaultCNI: true``: Flannel or kube-router is installed by the
scenario), Flannel's default pod network (``podSubnet: 10.244.0.0/16``, also kind's
IPv4 default), one control plane and ``nodes - 1`` workers, so node names match the
sandbox's: ``<cluster>-control-plane``, ``<cluster>-worker``, ``<cluster>-worker2``...
(fact: harness-anchors.md §8 "Config").

>>> print(render(kind_config(2)), end="")
kind: Cluster
apiVersion: kind.x-k8s.io/v1alpha4
networking:
  disableDefaultCNI: true
  podSubnet: 10.244.0.0/16
nodes:
- role: control-plane
- role: worker
"""

from __future__ import annotations

from typing import Any

import yaml

from harness.providers.base import NODE_MONITOR_GRACE_PERIOD, ProviderError

API_VERSION = "kind.x-k8s.io/v1alpha4"
POD_SUBNET = "10.244.0.0/16"
# kind applies a patch only to the kubeadm objects of its apiVersion; kubeadm's
# v1beta3 takes extraArgs as a map, v1beta4 (Kubernetes >= 1.31) as a name/value list
_GRACE_PATCHES = (
    "apiVersion: kubeadm.k8s.io/v1beta3\nkind: ClusterConfiguration\n"
    "controllerManager:\n  extraArgs:\n    node-monitor-grace-period: {grace}\n",
    "apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\n"
    "controllerManager:\n  extraArgs:\n  - name: node-monitor-grace-period\n"
    "    value: {grace}\n",
)


def kind_config(
    nodes: int,
    node_image: str | None = None,
    node_monitor_grace_period: float = NODE_MONITOR_GRACE_PERIOD,
) -> dict[str, Any]:
    """The config for a cluster of ``nodes`` nodes (the first is the control plane);
    a non-default grace period goes to kube-controller-manager through kubeadm."""
    if nodes < 1:
        raise ProviderError(
            "a kind cluster needs at least one node (its control plane)"
        )
    roles = ["control-plane"] + ["worker"] * (nodes - 1)
    node_list: list[dict[str, Any]] = [{"role": r} for r in roles]
    if node_image:
        for node in node_list:
            node["image"] = node_image
    config: dict[str, Any] = {
        "kind": "Cluster",
        "apiVersion": API_VERSION,
        "networking": {"disableDefaultCNI": True, "podSubnet": POD_SUBNET},
        "nodes": node_list,
    }
    if node_monitor_grace_period != NODE_MONITOR_GRACE_PERIOD:
        grace = f"{node_monitor_grace_period:g}s"
        config["kubeadmConfigPatches"] = [p.format(grace=grace) for p in _GRACE_PATCHES]
    return config


class _Dumper(yaml.SafeDumper):
    """Multi-line strings (kubeadm patches) as literal blocks, as kind's docs write."""


_Dumper.add_representer(
    str,
    lambda d, s: d.represent_scalar(
        "tag:yaml.org,2002:str", s, style="|" if "\n" in s else None
    ),
)


def render(config: dict[str, Any]) -> str:
    """YAML text in the order kind's docs write it (kind, apiVersion first)."""
    return yaml.dump(config, Dumper=_Dumper, sort_keys=False, default_flow_style=False)


def node_names(cluster: str, config: dict[str, Any]) -> list[str]:
    """The container (and Kubernetes node) names kind gives the config's nodes."""
    names, workers, planes = [], 0, 0
    for node in config["nodes"]:
        if node["role"] == "control-plane":
            planes += 1
            names.append(f"{cluster}-control-plane{'' if planes == 1 else planes}")
        else:
            workers += 1
            names.append(f"{cluster}-worker{'' if workers == 1 else workers}")
    return names
