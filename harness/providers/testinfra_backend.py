"""A pytest-testinfra backend that runs commands through any node's ``exec``.

testinfra has no backend plug-in point (pytest-testinfra#10), so the backend is built
directly and wrapped in a ``Host`` (fact: harness-anchors.md §2). Every call goes through
``Node.exec``, so the same ``Host`` keeps working across reboots (sandbox nodes resolve
their current holder per call) and works for the light netns-only test nodes too.

>>> node.host.interface("eth0").exists     # doctest: +SKIP
True
>>> node.host.file("/etc/cni/net.d/10-flannel.conflist").exists   # doctest: +SKIP
False
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from testinfra.backend.base import BaseBackend, CommandResult
from testinfra.host import Host

if TYPE_CHECKING:
    from harness.providers.base import Node


class NodeExecBackend(BaseBackend):
    NAME = "node-exec"

    def __init__(self, node: Node, *args: Any, **kwargs: Any) -> None:
        self.node = node
        super().__init__(node.name, *args, **kwargs)

    def run(self, command: str, *args: str, **kwargs: Any) -> CommandResult:
        cmd = self.get_command(command, *args)
        res = self.node.exec(["/bin/sh", "-c", cmd], check=False)
        return self.result(res.rc, self.encode(cmd), res.stdout_bytes, res.stderr_bytes)


def host_for(node: Node) -> Host:
    backend = NodeExecBackend(node)
    host = Host(backend)
    backend.set_host(host)
    return host
