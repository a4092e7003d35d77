"""What an emulated image is given, and what it must do.

The emulated kubelet runs each container as a process inside the node (the node's net,
uts and pid namespaces) in a private mount namespace in which every volume of the pod is
bind-mounted at its ``mountPath`` (hostPath volumes from the node's filesystem, configMap
volumes materialised under ``/var/lib/kubelet/pods/<uid>/volumes/...``). It then calls
:meth:`ImageHandler.run` with the container's ``command + args`` exactly as the manifest
gives them. The process title is set to that argv, so ``ps`` in the node shows e.g.
``/opt/bin/flanneld --ip-masq --kube-subnet-mgr`` and ``comm`` is ``flanneld``.

SIGTERM is delivered to the process on pod deletion; SIGKILL follows after the grace
period, exactly like kubelet. Whatever the handler changed on the node stays.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class ContainerContext:
    """Everything a container knows about where it runs."""

    image: str  # full reference as in the manifest, e.g. ghcr.io/flannel-io/flannel:v0.27.3
    node_name: str
    pod_name: str
    pod_namespace: str
    pod_uid: str
    container_name: str
    init: bool  # an init container (runs to completion before the next one starts)
    env: dict[str, str] = field(default_factory=dict)  # resolved, incl. downward API
    # path inside the node of a kubeconfig that reaches the API stand-in from the node's
    # network namespace (what in-cluster config would give a real pod)
    kubeconfig: str = "/etc/kubernetes/kubelet.conf"
    log_path: str = ""  # node path where the container's stdout/stderr go
    # container path -> host path of the real programs the image holds (real Flannel,
    # harness.realflannel); the shim mounts them there; empty = emulate the image
    image_files: dict[str, str] = field(default_factory=dict)


class ImageHandler(Protocol):
    """Behaviour of one emulated image."""

    def run(self, argv: list[str], ctx: ContainerContext) -> int:
        """Behave as the image would when started with ``argv`` (command + args).

        Runs inside the node, blocks until the container would exit, returns its exit
        code. Unknown commands must fail (exit 127 with a message on stderr), never
        succeed silently.
        """
        ...
