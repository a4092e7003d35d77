"""Throwaway light nodes for cniscrub's real-kernel tests.

A node is a :class:`harness.providers.light.LightNode` (a network namespace ``csb-<hex>``
with its files under ``root``; it implements the ``Node`` protocol) plus what these
tests build on it: an underlay NIC, pods on a bridge, rules through the real
``iptables-*-restore`` and ``nft``. Residue is built with the real tools exactly as
flanneld/the CNI plugins would leave it (``csb_residue``, citing
flannel-footprint.md). Underlay addresses are in 198.18.0.0/15, pods in 10.244.0.0/16
and fd00:10:244::/56. Nothing here touches the host's own namespace;
:meth:`Node.destroy` removes every namespace it created.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
from pathlib import Path

from harness.providers.light import CREATED, LightNode, run

PY = sys.executable
NET4, POD4 = "10.244.0.0/16", "10.244.1.0/24"
NET6, POD6 = "fd00:10:244::/56", "fd00:10:244:1::/64"
TIMEOUT = 60
REPO = Path(__file__).parents[3]

__all__ = ["CREATED", "NET4", "NET6", "POD4", "POD6", "PY", "Node", "run"]


class Node(LightNode):
    """A light node with the cniscrub tests' building blocks."""

    @property
    def pods(self) -> list[str]:
        return self.extra_netns

    @classmethod
    def create(cls, tmp: Path, name: str | None = None) -> Node:
        """A node whose root is ``tmp/root``."""
        node = super().create(tmp / "root", name or f"csb-{secrets.token_hex(4)}")
        assert isinstance(node, Node)
        return node

    def cli(
        self, *args: str, env: dict[str, str] | None = None, timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        """The cleaner in the node's netns with the host's files (tests pass
        ``--root node.root``, as production passes ``--root /host``)."""
        full_env = {**os.environ, "PYTHONPATH": str(REPO), **(env or {})}
        argv = ["ip", "netns", "exec", self.name, PY, "-m", "cniscrub", *args]
        return subprocess.run(
            argv,
            capture_output=True,
            text=True,
            env=full_env,
            timeout=timeout,
            check=False,
        )

    def ipt(self, backend: str, family: int, rules: str) -> None:
        base = "iptables" if family == 4 else "ip6tables"
        self.net_exec(
            [f"{base}-{backend}-restore", "--noflush", "-w", "5"], input=rules
        )

    def nft(self, text: str) -> None:
        self.net_exec(["nft", "-f", "-"], input=text)

    def write(self, path: str, data: str | bytes, mode: int = 0o644) -> None:
        self.write_file(path, data, mode)

    # --- building blocks ---------------------------------------------------------
    def underlay(self) -> None:
        # no dummy module here: a veth pair inside the node is the underlay NIC
        self.ip("link", "add", "eth0", "type", "veth", "peer", "name", "ul0")
        self.ip("link", "set", "ul0", "up")
        self.ip("addr", "add", "198.18.0.2/24", "dev", "eth0")
        self.ip("addr", "add", "fd00:198:18::2/64", "dev", "eth0", "nodad")
        self.ip("link", "set", "eth0", "up")
        self.address = "198.18.0.2"

    def add_pod(self, i: int, bridge: str = "cni0", dual: bool = False) -> str:
        pod = self.add_netns(f"p{i}")
        veth = f"veth{secrets.token_hex(4)}"
        self.ip(
            "link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", pod
        )
        self.ip("link", "set", veth, "master", bridge, "up")
        pip = ["ip", "-n", pod]
        run([*pip, "addr", "add", f"10.244.1.{i + 2}/24", "dev", "eth0"])
        run([*pip, "link", "set", "eth0", "up"])
        run([*pip, "route", "add", "default", "via", "10.244.1.1"])
        if dual:
            address = f"fd00:10:244:1::{i + 2}/64"
            run([*pip, "addr", "add", address, "dev", "eth0", "nodad"])
        return veth


def copy_flanneld_binary(tmp: Path) -> Path:
    """A copy of ``sleep`` named ``flanneld``: its comm is then ``flanneld``."""
    target = tmp / "flanneld"
    shutil.copy(shutil.which("sleep") or "/bin/sleep", target)
    return target


def save(node: Node, backend: str, family: int) -> str:
    base = "iptables" if family == 4 else "ip6tables"
    return node.net_exec([f"{base}-{backend}-save"], check=False).stdout


def dump_json(node: Node, argv: list[str]) -> object:
    out = node.net_exec(argv, check=False).stdout
    return json.loads(out) if out.strip() else []
