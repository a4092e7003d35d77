"""A sandbox node: run argv lists, read and write files, reboot, stop/start, testinfra
``Host`` (implements ``harness.providers.base.Node``).

Commands enter the node's namespaces with util-linux ``nsenter`` (net, mount, uts, ipc,
pid), so ``ps`` shows only the node's processes, ``hostname`` is the node's name and
every path resolves in the node's own view (/etc, /opt, /var overlays, private /run).

>>> node.exec(["ip", "-br", "addr", "show", "eth0"]).stdout  # doctest: +SKIP
'eth0@if7  UP  198.18.0.11/15 ...'
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from typing import TYPE_CHECKING

from cniscrub.node.command import CommandError, CommandResult, as_argv
from harness.providers.execution import run_entering
from harness.providers.sandbox.state import NodeRecord, NodeStopped, SandboxError

if TYPE_CHECKING:
    from testinfra.host import Host

    from harness.providers.sandbox.provider import SandboxCluster

NSENTER_NAMESPACES = ("--net", "--mount", "--uts", "--ipc", "--pid")
_WRITE_SCRIPT = 'mkdir -p -- "$(dirname -- "$1")" && cat > "$1" && chmod "$2" "$1"'


class SandboxNode:
    """One node of a :class:`SandboxCluster`; implements ``harness.providers.base.Node``."""

    def __init__(self, cluster: SandboxCluster, record: NodeRecord) -> None:
        self._cluster = cluster
        self.record = record

    def __repr__(self) -> str:
        return f"<sandbox node {self.name} {self.address}>"

    @property
    def name(self) -> str:
        return self.record.name

    @property
    def address(self) -> str:
        return self.record.address

    @property
    def role(self) -> str:
        return self.record.role

    @property
    def cluster_id(self) -> str:
        """The cluster id in the ownership marker of this node's processes."""
        return self._cluster.id

    def marker_env(self) -> dict[str, str]:
        """The environment (ownership marker included) of every process started for
        this node."""
        return self._cluster.marker_env()

    @property
    def pid(self) -> int:
        """Host pid of the node's holder (PID 1 of its pid namespace)."""
        holder = self.record.holder
        if holder is None or not holder.alive():
            self._cluster.refresh()
            holder = self.record.holder
            if self.record.stopped:
                raise NodeStopped(
                    f"node {self.name} is powered off; start it first "
                    f"(cniscrub-lab start {self.name})"
                )
            if holder is None or not holder.alive():
                raise SandboxError(
                    f"node {self.name} is not running (its holder is gone); "
                    f"reboot it or run `cniscrub-lab gc`"
                )
        return holder.pid

    def nsenter_argv(self, argv: Sequence[str]) -> list[str]:
        """The host-side argv that runs ``argv`` inside this node."""
        return ["nsenter", "-t", str(self.pid), *NSENTER_NAMESPACES, "--", *argv]

    def exec(
        self,
        argv: Sequence[str],
        *,
        input: bytes | str | None = None,
        check: bool = True,
        timeout: float = 120.0,
        env: dict[str, str] | None = None,
    ) -> CommandResult:
        args = as_argv(argv)
        return run_entering(
            args,
            self.nsenter_argv(args),
            where=f"node {self.name}",
            input=input,
            check=check,
            timeout=timeout,
            env={**self.marker_env(), **(env or {})},
            cwd="/",
        )

    def read_file(self, path: str) -> bytes:
        result = self.exec(["cat", "--", path], check=False)
        if not result.ok:
            if "No such file" in result.stderr:
                raise FileNotFoundError(f"{self.name}:{path}")
            raise CommandError(result, f"on node {self.name}")
        return result.stdout_bytes

    def write_file(self, path: str, data: bytes | str, mode: int = 0o644) -> None:
        self.exec(["sh", "-c", _WRITE_SCRIPT, "sh", path, f"{mode:o}"], input=data)

    def reboot(self) -> None:
        self._cluster.reboot(self.name)

    def stop(self) -> None:
        self._cluster.stop(self.name)

    def start(self) -> None:
        self._cluster.start(self.name)

    @cached_property
    def host(self) -> Host:
        from harness.providers.testinfra_backend import host_for

        return host_for(self)
