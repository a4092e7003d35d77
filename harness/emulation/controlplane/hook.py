"""Start a cluster's control-plane process after its nodes are up (sandbox provider
post-create hook) and record it, so ``down`` and ``gc`` stop it with the nodes."""

from __future__ import annotations

import json
import subprocess
import sys
import time

from harness.providers.base import ClusterSpec
from harness.providers.sandbox.holders import marker_env
from harness.providers.sandbox.provider import SandboxCluster, SandboxProvider
from harness.providers.sandbox.state import HOME_ENV, ProcRef, SandboxError

READY_TIMEOUT = 30.0


def install(provider: SandboxProvider) -> None:
    provider.post_create.append(start)


def start(cluster: SandboxCluster, spec: ClusterSpec) -> None:
    if not spec.control_plane:
        return
    env = {**marker_env(cluster.id), HOME_ENV: str(cluster.state_dir.parent.parent)}
    log_path = cluster.state_dir / "controlplane.log"
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "harness.emulation.controlplane",
                "--cluster",
                cluster.name,
                "--runtime",
                spec.runtime,
            ],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            env=env,
            start_new_session=True,
            cwd="/",
        )
    cluster.record.controlplane = ProcRef.of(proc.pid)
    cluster.dir.save(cluster.record)
    ready_file = cluster.state_dir / "controlplane.json"
    deadline = time.monotonic() + READY_TIMEOUT
    while not ready_file.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            tail = log_path.read_text(errors="replace")[-3000:]
            raise SandboxError(
                f"the control plane of {cluster.name} did not start:\n{tail}"
            )
        time.sleep(0.02)
    info = json.loads(ready_file.read_text())
    cluster.record.api_url = info["api_url"]
    cluster.record.api_url_in_cluster = info["in_cluster_url"]
    cluster.dir.save(cluster.record)
