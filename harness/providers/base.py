"""The interface every provider implements: a cluster is a list of nodes, a node runs argv
lists, reads and writes files, reboots, and offers a pytest-testinfra ``Host``.

Kept deliberately small (kind's ``Node`` is five methods); helpers that work on any node
are free functions elsewhere, so the interface does not grow.

>>> node.exec(["hostname"]).stdout.strip()          # doctest: +SKIP
'lab-worker'
>>> node.host.interface("eth0").exists               # doctest: +SKIP
True
"""

from __future__ import annotations

from collections.abc import Sequence
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
    "Provider",
]


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
        """Run argv inside the node; raise CommandError on failure when check."""
        ...

    def read_file(self, path: str) -> bytes: ...

    def write_file(self, path: str, data: bytes | str, mode: int = 0o644) -> None: ...

    def reboot(self) -> None:
        """Reboot as a real node does: processes, links, routes, rules and /run vanish,
        /etc, /opt and /var survive."""
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
    extra: dict[str, str] = field(default_factory=dict)


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


class Provider(Protocol):
    """Creates and deletes clusters; only ever touches what it created (ownership)."""

    name: str

    def create(self, spec: ClusterSpec) -> Cluster: ...

    def get(self, name: str) -> Cluster: ...

    def list_clusters(self) -> list[str]: ...

    def delete(self, name: str) -> None:
        """Idempotent, like ``rm -f``: errors only when something exists and cannot go."""
        ...
