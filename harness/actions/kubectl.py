"""kubectl against the cluster, once: from the machine with the cluster's kubeconfig
(an argv, no shell), or -- for a shell construct around kubectl (a pipeline, a loop)
-- with bash on the control-plane node, where kubectl reaches the API through the
node's own kubeconfig, as an operator on that node would run it."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Sequence
from pathlib import Path

from harness.actions.base import ActionError, ActionResult, select, timed
from harness.kube import find_kubectl
from harness.kube import kubectl as run_kubectl
from harness.providers.base import Cluster

NODE_KUBECONFIG = "/etc/kubernetes/kubelet.conf"  # every sandbox/kubeadm node has one


def kubectl(
    cluster: Cluster,
    args: Sequence[str],
    *,
    tolerate_failure: bool = False,
    timeout: float = 120.0,
) -> ActionResult:
    """``kubectl ARGS`` once; ``tolerate_failure`` is ``|| true``: a failure is
    recorded but the action succeeds."""

    def call() -> tuple[int, str, str]:
        try:
            r = run_kubectl(cluster, *args, check=False, timeout=timeout)
        except subprocess.TimeoutExpired:
            return 124, "", f"kubectl timed out after {timeout:.0f}s"
        return r.rc, r.stdout, r.stderr

    run = timed("cluster", call)
    if tolerate_failure and not run.ok:
        run.note = f"exit {run.rc} ignored (|| true)"
        run.rc = 0
    return ActionResult([run])


def kubectl_script(
    cluster: Cluster, script: str, *, timeout: float = 120.0
) -> ActionResult:
    """A bash script that uses kubectl, once, on the control-plane node."""
    binary = find_kubectl()
    if binary is None:
        raise ActionError("kubectl not found: put it on PATH or set $KUBECTL")
    nodes = select(cluster, "control-plane") or list(cluster.nodes)
    node = nodes[0]
    env = {
        "KUBECONFIG": NODE_KUBECONFIG,
        "PATH": f"{Path(binary).parent}:{os.environ.get('PATH', '/usr/sbin:/usr/bin')}",
    }

    def call() -> tuple[int, str, str]:
        r = node.exec(["bash", "-c", script], check=False, timeout=timeout, env=env)
        return r.rc, r.stdout, r.stderr

    return ActionResult([timed(node.name, call, note=f"kubectl via {node.name}")])
