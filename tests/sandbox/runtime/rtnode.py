"""Helpers for the runtime emulation's throwaway node: a light node (it implements the
``Node`` protocol; see :mod:`harness.providers.light`) plus the runtime's own dirs.

The runtime's dirs (conf, bin, cache, state, pod netns, IPAM) are temporary
directories handed to it through ``CNISCRUB_RUNTIME_*`` variables. Pod network
namespaces are bind mounts in the temporary netns dir (never the host's /run/netns), so
the runtime CLI runs in the node's network namespace through ``nsenter --net`` only (no
mount namespace of its own: the pod netns mounts it makes must outlive the command, as
they do under a real runtime). The finalizer deletes every pod and the node (taking
cni0 and veths with it) and unmounts the temp netns dir.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from harness.providers.light import LightNode

REPO = Path(__file__).resolve().parents[3]
PLUGINS = ("bridge", "host-local", "loopback", "portmap")
TIMEOUT_S = 30


def requirements() -> str | None:
    if os.geteuid() != 0:
        return "needs root"
    if not shutil.which("nsenter"):
        return "needs nsenter"
    if not all(os.path.exists(f"/usr/lib/cni/{p}") for p in PLUGINS):
        return "needs containernetworking-plugins in /usr/lib/cni"
    return None


def conflist(name: str, data_dir: Path, *extra: dict[str, Any], **bridge: Any) -> str:
    """bridge + host-local on 10.244.1.0/24 (cbr0 / cni0, isGateway) plus ``extra``."""
    plugin = {
        "type": "bridge",
        "bridge": "cni0",
        "isGateway": True,
        "ipMasq": False,
        "hairpinMode": True,
        "ipam": {
            "type": "host-local",
            "dataDir": str(data_dir),
            "ranges": [[{"subnet": "10.244.1.0/24"}]],
            "routes": [{"dst": "10.244.0.0/16"}],
        },
    }
    plugin.update(bridge)
    return json.dumps(
        {"name": name, "cniVersion": "0.3.1", "plugins": [plugin, *extra]}
    )


class Node(LightNode):
    """A light node plus the emulated runtime's dirs under ``dirs``."""

    def __init__(self, name: str, dirs: Path, env: dict[str, str]) -> None:
        super().__init__(name, dirs / "root")
        self.dirs = dirs
        self.env = env

    @property
    def ns_path(self) -> str:
        return f"/run/netns/{self.ns}"

    @property
    def conf(self) -> Path:
        return self.dirs / "conf"

    @property
    def bin(self) -> Path:
        return self.dirs / "bin"

    @property
    def cache(self) -> Path:
        return self.dirs / "cache"

    @property
    def netns_dir(self) -> Path:
        return self.dirs / "netns"

    @property
    def ipam(self) -> Path:
        return self.dirs / "ipam"

    def cli(self, *args: str) -> dict[str, Any]:
        """Run the runtime CLI inside the node netns; return its JSON object."""
        proc = subprocess.run(
            ["nsenter", f"--net={self.ns_path}", sys.executable, "-m",
             "harness.emulation.runtime", *args],
            env=self.env, cwd=REPO, capture_output=True, text=True,
            timeout=TIMEOUT_S, check=False,
        )  # fmt: skip
        assert proc.returncode == 0, proc.stderr
        lines = proc.stdout.splitlines()
        assert len(lines) == 1, proc.stdout
        out: dict[str, Any] = json.loads(lines[0])
        return out

    def run_in(self, ns: str, *argv: str) -> subprocess.CompletedProcess[str]:
        """Run ``argv`` inside netns ``ns`` (a path)."""
        return subprocess.run(
            ["nsenter", f"--net={ns}", *argv],
            capture_output=True, text=True, timeout=TIMEOUT_S, check=False,
        )  # fmt: skip

    def links(self) -> list[str]:
        """Link names in the node netns."""
        out = self.net_exec(["ip", "-o", "link", "show"]).stdout
        return [line.split(": ")[1].split("@")[0] for line in out.splitlines()]
