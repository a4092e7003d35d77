"""Throwaway sandbox nodes for cniscrub's real-kernel tests.

A node is a network namespace ``csb-<hex>`` we create (plus one netns per pod) and a
temp directory used as ``--root``. Residue is built with the real tools (ip, bridge,
iptables-*-restore, nft) exactly as flanneld/the CNI plugins would leave it; every
rule spec, comment and path cites flannel-footprint.md. Underlay addresses are in
198.18.0.0/15, pods in 10.244.0.0/16 and fd00:10:244::/56. Nothing here touches the
host's own namespace; :meth:`Node.destroy` removes every namespace it created.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

PY = sys.executable
NET4, POD4 = "10.244.0.0/16", "10.244.1.0/24"
NET6, POD6 = "fd00:10:244::/56", "fd00:10:244:1::/64"
TIMEOUT = 60
# every namespace this process created (other runs of this suite may be going on at
# the same time on this machine: leak checks look only at ours)
CREATED: set[str] = set()


def run(argv: list[str], stdin: str | None = None, check: bool = True) -> str:
    res = subprocess.run(
        argv, input=stdin, capture_output=True, text=True, timeout=TIMEOUT, check=False
    )
    if check and res.returncode != 0:
        raise RuntimeError(
            f"{argv} failed ({res.returncode}): {res.stderr}{res.stdout}"
        )
    return res.stdout


@dataclass
class Node:
    """One sandbox node: a netns and a root dir, plus the pod netns it owns."""

    name: str
    root: Path
    pods: list[str] = field(default_factory=list)

    @classmethod
    def create(cls, tmp: Path) -> Node:
        node = cls(f"csb-{secrets.token_hex(4)}", tmp / "root")
        node.root.mkdir(parents=True, exist_ok=True)
        CREATED.add(node.name)
        run(["ip", "netns", "add", node.name])
        node.no_dad(node.name)
        node.ip("link", "set", "lo", "up")
        return node

    @staticmethod
    def no_dad(ns: str) -> None:
        """No IPv6 DAD inside our namespaces: addresses are final at once (no races)."""
        for conf in ("all", "default"):
            run(
                [
                    "ip",
                    "netns",
                    "exec",
                    ns,
                    "sysctl",
                    "-qw",
                    f"net.ipv6.conf.{conf}.accept_dad=0",
                ]
            )

    def destroy(self) -> None:
        for ns in [*self.pods, self.name]:
            subprocess.run(
                ["ip", "netns", "del", ns],
                capture_output=True,
                timeout=TIMEOUT,
                check=False,
            )

    # --- running things inside the node -------------------------------------------
    def ip(self, *args: str) -> str:
        return run(["ip", "-n", self.name, *args])

    def exec(
        self, argv: list[str], stdin: str | None = None, check: bool = True
    ) -> str:
        return run(["ip", "netns", "exec", self.name, *argv], stdin, check)

    def cli(
        self, *args: str, env: dict[str, str] | None = None, timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        full_env = {
            **os.environ,
            "PYTHONPATH": str(Path(__file__).parents[3]),
            **(env or {}),
        }
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
        self.exec([f"{base}-{backend}-restore", "--noflush", "-w", "5"], rules)

    def nft(self, text: str) -> None:
        self.exec(["nft", "-f", "-"], text)

    def write(self, path: str, data: str | bytes, mode: int = 0o644) -> None:
        p = self.root / path.lstrip("/")
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data.encode() if isinstance(data, str) else data)
        p.chmod(mode)

    # --- building blocks ---------------------------------------------------------
    def underlay(self) -> None:
        # no dummy module here: a veth pair inside the node is the underlay NIC
        self.ip("link", "add", "eth0", "type", "veth", "peer", "name", "ul0")
        self.ip("link", "set", "ul0", "up")
        self.ip("addr", "add", "198.18.0.2/24", "dev", "eth0")
        self.ip("addr", "add", "fd00:198:18::2/64", "dev", "eth0", "nodad")
        self.ip("link", "set", "eth0", "up")

    def add_pod(self, i: int, bridge: str = "cni0", dual: bool = False) -> str:
        pod = f"{self.name}-p{i}"
        CREATED.add(pod)
        run(["ip", "netns", "add", pod])
        self.pods.append(pod)
        self.no_dad(pod)
        veth = f"veth{secrets.token_hex(4)}"
        self.ip(
            "link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", pod
        )
        self.ip("link", "set", veth, "master", bridge, "up")
        pip = ["ip", "-n", pod]
        run([*pip, "link", "set", "lo", "up"])
        run([*pip, "addr", "add", f"10.244.1.{i + 2}/24", "dev", "eth0"])
        run([*pip, "link", "set", "eth0", "up"])
        run([*pip, "route", "add", "default", "via", "10.244.1.1"])
        if dual:
            run(
                [
                    *pip,
                    "addr",
                    "add",
                    f"fd00:10:244:1::{i + 2}/64",
                    "dev",
                    "eth0",
                    "nodad",
                ]
            )
        return veth


def copy_flanneld_binary(tmp: Path) -> Path:
    """A copy of ``sleep`` named ``flanneld``: its comm is then ``flanneld``."""
    target = tmp / "flanneld"
    shutil.copy(shutil.which("sleep") or "/bin/sleep", target)
    return target


def save(node: Node, backend: str, family: int) -> str:
    base = "iptables" if family == 4 else "ip6tables"
    return node.exec([f"{base}-{backend}-save"], check=False)


def dump_json(node: Node, argv: list[str]) -> object:
    out = node.exec(argv, check=False)
    return json.loads(out) if out.strip() else []
