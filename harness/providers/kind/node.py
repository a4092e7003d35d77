"""A kind node: one ``kindest/node`` container, driven through the docker SDK.

``exec``, ``read_file`` and ``write_file`` go through :class:`ContainerOps`; ``host`` is
pytest-testinfra's own ``docker://<node>`` host (it runs ``docker exec`` with the
``DOCKER_HOST`` of the environment, as the provider's ``docker.from_env()`` client does;
kind nodes have no python3, which that backend does not need: harness-anchors.md §2).

Reboot is ``docker restart`` of the node container followed by a wait until the kubelet
has posted Ready again. kind's node containers keep ``/run`` and ``/tmp`` on tmpfs and
``/var`` on a volume, so a restart empties ``/run`` (``/run/flannel/subnet.env`` is gone)
and the node's network namespace (links, routes, rules), while ``/etc``, ``/opt`` and
``/var`` stay (harness-anchors.md §8 "Reboot simulation"). Needs kind >= v0.15.0
(kubernetes-sigs/kind#2775): older releases break multi-node clusters whose node IPs
change across a restart. HA control planes do not survive restarts at all (kind#1689).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any

from cniscrub.node.command import CommandResult
from harness.providers.kind.docker_ops import ContainerOps
from harness.providers.kind.readiness import heartbeats, wait_nodes_ready

if TYPE_CHECKING:
    from testinfra.host import Host

    from harness.providers.kind.cluster import KindTestCluster

#: kind's container labels (pkg/cluster/internal/providers/docker/constants.go)
CLUSTER_LABEL = "io.x-k8s.kind.cluster"
ROLE_LABEL = "io.x-k8s.kind.role"
KIND_NETWORK = "kind"


class KindNode:
    """Implements ``harness.providers.base.Node`` for one kind node container."""

    def __init__(self, cluster: KindTestCluster, name: str, role: str) -> None:
        self._cluster = cluster
        self._name = name
        self._role = role
        self.ops = ContainerOps(cluster.docker, name)

    def __repr__(self) -> str:
        return f"<kind node {self._name}>"

    @property
    def name(self) -> str:
        return self._name

    @property
    def role(self) -> str:
        return self._role

    @property
    def address(self) -> str:
        """The node's IPv4 address on kind's docker network (its InternalIP)."""
        networks: dict[str, Any] = (
            self.ops.container().attrs.get("NetworkSettings", {}).get("Networks") or {}
        )
        chosen: dict[str, Any] = networks.get(KIND_NETWORK) or next(
            iter(networks.values()), {}
        )
        return str(chosen.get("IPAddress", ""))

    def exec(
        self,
        argv: Sequence[str],
        *,
        input: bytes | str | None = None,
        check: bool = True,
        timeout: float = 120.0,
        env: dict[str, str] | None = None,
    ) -> CommandResult:
        return self.ops.exec(argv, input=input, check=check, timeout=timeout, env=env)

    def read_file(self, path: str) -> bytes:
        return self.ops.read_file(path)

    def write_file(self, path: str, data: bytes | str, mode: int = 0o644) -> None:
        self.ops.write_file(path, data, mode)

    def reboot(self) -> None:
        """``docker restart``, then wait until the kubelet posted Ready again."""
        kubectl = self._cluster.kubectl
        before = heartbeats(kubectl)
        self.ops.restart()
        wait_nodes_ready(
            kubectl, [self.name], since=before, what=f"{self.name} Ready after reboot"
        )

    def stop(self) -> None:
        """Power off (``docker stop``): the kubelet stops; the API marks the node
        NotReady after the node-monitor grace period. The disk is kept."""
        self.ops.stop()

    def start(self) -> None:
        """Power on (``docker start``), then wait until the kubelet posted Ready.
        Idempotent: a running node is left alone."""
        if self.ops.status() == "running":
            return
        kubectl = self._cluster.kubectl
        before = heartbeats(kubectl)
        self.ops.start()
        wait_nodes_ready(
            kubectl, [self.name], since=before, what=f"{self.name} Ready after start"
        )

    @cached_property
    def host(self) -> Host:
        import testinfra

        return testinfra.get_host(f"docker://{self.name}")
