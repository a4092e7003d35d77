"""Helpers for the runtime emulation's throwaway "node" (a private netns + temp dirs).

The node netns and every pod netns are bind mounts in a temporary directory (never
the host's /run/netns); the CLI runs inside the node netns through ``nsenter --net``
(no new mount namespace, so its netns mounts persist). The finalizer deletes every pod,
the node netns (taking cni0 and veths with it) and unmounts the temp netns dirs.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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


@dataclass
class Node:
    """A node netns plus the emulated runtime's dirs."""

    root: Path
    ns_path: str
    env: dict[str, str] = field(default_factory=dict)

    @property
    def conf(self) -> Path:
        return self.root / "conf"

    @property
    def bin(self) -> Path:
        return self.root / "bin"

    @property
    def cache(self) -> Path:
        return self.root / "cache"

    @property
    def netns_dir(self) -> Path:
        return self.root / "netns"

    @property
    def ipam(self) -> Path:
        return self.root / "ipam"

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
        out = self.run_in(self.ns_path, "ip", "-o", "link", "show").stdout
        return [line.split(": ")[1].split("@")[0] for line in out.splitlines()]
