"""A kind cluster as the harness sees it: pytest-kind's ``KindCluster`` for the kind CLI
(create, delete, ``kind load docker-image``), the docker SDK for its node containers,
kubectl for its API, and the shipped cleaner run as a Job.

Implements ``harness.providers.base.Cluster``; nodes are listed from docker by kind's
own cluster label, control plane first.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cniscrub.node.command import CommandResult
from harness.providers.base import Node, ProviderError
from harness.providers.kind import cleaner_image, cleaner_job, cni
from harness.providers.kind.commands import Kubectl
from harness.providers.kind.node import CLUSTER_LABEL, ROLE_LABEL, KindNode

if TYPE_CHECKING:
    from pytest_kind import KindCluster

    from harness.providers.kind.provider import KindProvider

log = logging.getLogger(__name__)


class KindTestCluster:
    """One kind cluster created (or found) by :class:`KindProvider`."""

    #: how long a CNI install may take here (image pulls from a registry);
    #: ``harness.flannel_install.install`` uses it as its default wait
    install_timeout = cni.ROLLOUT_TIMEOUT

    def __init__(
        self, provider: KindProvider, kind: KindCluster, state_dir: Path
    ) -> None:
        self.provider = provider
        self.kind = kind
        self._state_dir = state_dir
        self.kubectl = Kubectl(str(kind.kubectl_path), self.kubeconfig, provider.runner)
        self._loaded: set[str] = set()
        self._nodes: list[KindNode] | None = None

    def __repr__(self) -> str:
        return f"<kind cluster {self.name}>"

    @property
    def name(self) -> str:
        return str(self.kind.name)

    @property
    def docker(self) -> Any:
        return self.provider.docker()

    @property
    def kubeconfig(self) -> Path:
        return Path(self.kind.kubeconfig_path).resolve()

    @property
    def state_dir(self) -> Path:
        return self._state_dir

    @property
    def nodes(self) -> Sequence[KindNode]:
        containers = self.docker.containers.list(
            all=True, filters={"label": f"{CLUSTER_LABEL}={self.name}"}
        )
        nodes = [
            KindNode(self, c.name, c.labels.get(ROLE_LABEL, "")) for c in containers
        ]
        return sorted(
            nodes, key=lambda n: (n.role != "control-plane", len(n.name), n.name)
        )

    def node(self, name: str) -> KindNode:
        nodes = self.nodes
        for node in nodes:
            if node.name == name:
                return node
        have = ", ".join(n.name for n in nodes)
        raise ProviderError(
            f"kind cluster {self.name} has no node {name!r} (nodes: {have})"
        )

    def install_cni(self, manifest: Path, timeout: float = cni.ROLLOUT_TIMEOUT) -> None:
        """Apply a CNI manifest and wait (bounded) for its DaemonSets and every node."""
        cni.install(self, manifest, rollout_timeout=timeout)

    def cleaner_image(self) -> str:
        """The cleaner's image, built from ``deploy/Dockerfile`` unless the provider was
        given one, and loaded into the cluster's nodes once (``kind load``)."""
        image = self.provider.cleaner_image
        if image is None:
            work = cleaner_image.workdir_for(self.state_dir)
            image = cleaner_image.build(
                self.docker, work, base=self.provider.cleaner_base
            )
        if image not in self._loaded:
            self.kind.load_docker_image(image)
            self._loaded.add(image)
        return image

    def run_cleaner(
        self,
        node: Node,
        argv: Sequence[str],
        *,
        timeout: float = 300.0,
        env: Mapping[str, str] | None = None,
    ) -> CommandResult:
        """The shipped cleaner as production runs it: ``deploy/job.yaml`` pinned to
        ``node`` (``env`` added to its container); the JSON report comes from the pod
        log. Never raises on rc != 0."""
        job = cleaner_job.job_for(
            self.node(node.name).name, argv, self.cleaner_image(), env=env
        )
        return cleaner_job.run_job(self.kubectl, job, timeout)
