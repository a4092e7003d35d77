"""The interface every provider implements: a cluster is a list of nodes, a node runs argv
lists, reads and writes files, reboots, powers off and on, and offers a pytest-testinfra
``Host``; a cluster runs the shipped cleaner on a node the way production does.

Everything above ``harness/providers/`` (the pytest plugin, checks, reproduce, scenarios,
the ``cniscrub-lab`` CLI) is written against these protocols only; a provider is chosen
by name through :func:`harness.providers.make_provider`. Helpers that work on any node
are free functions elsewhere (:mod:`harness.checks`), so the interface stays small.

>>> node.exec(["hostname"]).stdout.strip()          # doctest: +SKIP
'lab-worker'
>>> node.host.interface("eth0").exists               # doctest: +SKIP
True
>>> cluster.run_cleaner(node, ["verify", "--cni", "flannel"]).rc   # doctest: +SKIP
0
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from cniscrub.node.command import CommandError, CommandResult

if TYPE_CHECKING:
    from testinfra.host import Host

__all__ = [
    "Cluster",
    "ClusterSpec",
    "CommandError",
    "CommandResult",
    "Node",
    "NodeNotRunning",
    "Provider",
    "ProviderError",
]

#: kube-controller-manager's --node-monitor-grace-period default since Kubernetes v1.29
#: (40 s before; kubernetes/kubernetes#121793, #127352): a node whose kubelet stopped
#: posting status is marked Ready=Unknown ("NotReady") after this long.
NODE_MONITOR_GRACE_PERIOD = 50.0


class ProviderError(RuntimeError):
    """A provider could not be found, imported, or asked to do something."""


class NodeNotRunning(RuntimeError):
    """The node is powered off (or gone): nothing can run on it until ``start()``."""


@runtime_checkable
class Node(Protocol):
    """One cluster node, whatever it is made of."""

    @property
    def name(self) -> str: ...

    @property
    def address(self) -> str:
        """The node's underlay IPv4 address (its InternalIP)."""
        ...

    @property
    def role(self) -> str:
        """``control-plane`` or ``worker``."""
        ...

    def exec(
        self,
        argv: Sequence[str],
        *,
        input: bytes | str | None = None,
        check: bool = True,
        timeout: float = 120.0,
        env: dict[str, str] | None = None,
    ) -> CommandResult:
        """Run argv inside the node; raise CommandError on failure when check (and on a
        timeout), NodeNotRunning when the node is powered off."""
        ...

    def read_file(self, path: str) -> bytes:
        """The file's bytes as the node sees it; FileNotFoundError when absent."""
        ...

    def write_file(self, path: str, data: bytes | str, mode: int = 0o644) -> None: ...

    def reboot(self) -> None:
        """Reboot as a real node does: processes, links, routes, rules and /run vanish,
        /etc, /opt and /var survive."""
        ...

    def stop(self) -> None:
        """Power off: every process stops (the kubelet too, so the API marks the node
        NotReady after the node-monitor grace period); the disk is kept."""
        ...

    def start(self) -> None:
        """Power on after ``stop()``: the node boots as after a reboot."""
        ...

    @property
    def host(self) -> Host:
        """A pytest-testinfra Host whose commands run inside the node."""
        ...


@dataclass(frozen=True)
class ClusterSpec:
    """What to build."""

    name: str = "lab"
    nodes: int = 3
    cni_bin_set: str = "full"  # "full" (kubernetes-cni package) or "kind"
    control_plane: bool = True
    runtime: str = "containerd-1.7"  # whose CNI rules and error wording nodes follow
    # seconds without kubelet status before the control plane marks a node NotReady
    node_monitor_grace_period: float = NODE_MONITOR_GRACE_PERIOD
    extra: dict[str, str] = field(default_factory=dict)


@runtime_checkable
class Cluster(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def nodes(self) -> Sequence[Node]: ...

    def node(self, name: str) -> Node: ...

    @property
    def kubeconfig(self) -> Path | None: ...

    @property
    def state_dir(self) -> Path: ...

    def run_cleaner(
        self,
        node: Node,
        argv: Sequence[str],
        *,
        timeout: float = 300.0,
        env: Mapping[str, str] | None = None,
    ) -> CommandResult:
        """Run the SHIPPED ``cniscrub`` with ``argv`` on ``node`` the way production
        does (sandbox: inside the node; kind: the Job from ``deploy/``), with ``env``
        added to its environment (the Job container's ``env``). Never raises on a
        non-zero exit: the caller reads ``rc``, ``stdout`` (``--json``), ``stderr``."""
        ...


@runtime_checkable
class Provider(Protocol):
    """Creates and deletes clusters; only ever touches what it created (ownership)."""

    name: str

    def unavailable(self) -> str | None:
        """Why this provider cannot run on this machine (precise, with the fix), or
        None when it can."""
        ...

    def create(self, spec: ClusterSpec) -> Cluster: ...

    def get(self, name: str) -> Cluster: ...

    def list_clusters(self) -> list[str]: ...

    def delete(self, name: str) -> None:
        """Idempotent, like ``rm -f``: errors only when something exists and cannot go."""
        ...
