"""Start a cluster's control-plane process after its nodes are up (the sandbox
provider's post-create hook, installed by ``SandboxProvider`` itself) and record it, so
``down`` and ``gc`` stop it with the nodes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

from harness.providers.base import ClusterSpec
from harness.providers.sandbox.provider import SandboxCluster
from harness.providers.sandbox.state import HOME_ENV, ProcRef, SandboxError
from harness.realflannel.cache import CACHE_ENV
from harness.realflannel.resolve import IMPL_ENV

READY_TIMEOUT = 30.0


def flannel_env(spec: ClusterSpec) -> dict[str, str]:
    """How the kubelets run Flannel images (``spec.extra["flannel_impl"]``, else the
    caller's ``$CNISCRUB_FLANNEL_IMPL``) and where the real binaries are cached."""
    impl = spec.extra.get("flannel_impl") or os.environ.get(IMPL_ENV, "")
    env = {IMPL_ENV: impl} if impl else {}
    for key in (CACHE_ENV, "XDG_CACHE_HOME", "HOME"):
        if os.environ.get(key):
            env[key] = os.environ[key]
    return env


def start(cluster: SandboxCluster, spec: ClusterSpec) -> None:
    if not spec.control_plane:
        return
    env = {
        **cluster.marker_env(),
        HOME_ENV: str(cluster.state_dir.parent.parent),
        **flannel_env(spec),
    }
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
                "--node-monitor-grace-period",
                str(spec.node_monitor_grace_period),
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
