"""kubectl against the cluster, once: from the machine with the cluster's kubeconfig
(an argv, no shell), or -- for a shell construct around kubectl (a pipeline, a loop)
-- with bash on the control-plane node, where kubectl reaches the API through the
node's own kubeconfig, as an operator on that node would run it.

Scenario steps: ``kubectl`` (args split like a shell does, ``rc`` to expect another
exit), ``kubectl_interrupted`` (``kubectl VERB -f MANIFEST`` killed after its N-th
object), ``pods`` (one workload pod pinned to each selected node, waited for until it
has an IP, or only created with ``wait: created``) and ``delete_pods``.

>>> manifest_documents("kind: A\\n---\\nkind: B\\n---\\n")
['kind: A\\n', 'kind: B\\n']
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from harness.actions.base import ActionError, ActionResult, select, timed
from harness.actions.context import Action, Context, as_mapping
from harness.kube import find_kubectl
from harness.kube import kubectl as run_kubectl
from harness.kube_get import get_json
from harness.providers.base import Cluster
from harness.wait import until

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


# -- scenario steps ---------------------------------------------------------------

WORKLOAD_LABEL = "cniscrub.io/scenario-workload"
WORKLOAD_IMAGE = "busybox:1.36"


def _args(value: Any) -> list[str]:
    if isinstance(value, str):
        return shlex.split(value)
    return [str(v) for v in value]


def run_kubectl_step(ctx: Context, args: Any) -> None:
    """``kubectl ARGS`` (or ``VERB -f MANIFEST``); fails unless it exits ``rc``."""
    spec = ctx.substitute(as_mapping(args, "args"))
    if "manifest" in spec:
        argv = [spec.get("verb", "apply"), "-f", str(ctx.path(spec["manifest"]))]
    else:
        argv = _args(spec["args"])
    result = kubectl(ctx.cluster, argv, timeout=float(spec.get("timeout", 120)))
    run = result.runs[-1]
    ctx.record("kubectl", run)
    wanted = int(spec.get("rc", 0))
    if run.rc != wanted:
        raise AssertionError(
            f"kubectl {shlex.join(argv)}: exit {run.rc} (wanted {wanted})\n{run.output}"
        )


def manifest_documents(text: str) -> list[str]:
    """The YAML documents of a manifest that hold something, in file order."""
    docs: list[str] = []
    current: list[str] = []
    for line in [*text.splitlines(), "---"]:
        if line.rstrip() == "---":
            body = "".join(f"{x}\n" for x in current)
            if any(x.strip() and not x.lstrip().startswith("#") for x in current):
                docs.append(body)
            current = []
        else:
            current.append(line)
    return docs


def run_interrupted(ctx: Context, args: Any) -> None:
    """``kubectl VERB -f MANIFEST`` killed after its N-th object.

    kubectl visits a file's objects in order and sends one request per object, so a
    run killed after N requests has done exactly what ``kubectl VERB`` of the first N
    documents does; that is what runs here (deterministic, unlike a timed kill)."""
    spec = ctx.substitute(args)
    manifest = ctx.path(spec["manifest"])
    docs = manifest_documents(Path(manifest).read_text())
    after = int(spec["after"])
    if not 0 < after < len(docs):
        raise ValueError(
            f"after: {after} must leave part of {manifest.name}'s {len(docs)} objects"
        )
    done = "---\n".join(docs[:after])
    verb = spec.get("verb", "delete")
    run_kubectl(ctx.cluster, verb, "--wait=false", "-f", "-", input=done, timeout=60)
    ctx.record("interrupted", {"manifest": str(manifest), "done": after})


def _pod(name: str, node: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "namespace": "default",
            "labels": {"app": "web", WORKLOAD_LABEL: "true"},
        },
        "spec": {
            "nodeName": node,
            "tolerations": [{"operator": "Exists"}],
            "terminationGracePeriodSeconds": 1,
            "containers": [
                {"name": "web", "image": WORKLOAD_IMAGE, "command": ["sleep", "1d"]}
            ],
        },
    }


def workload_pods(ctx: Context) -> list[dict[str, Any]]:
    """The scenario's workload pods as the API has them now."""
    items: list[dict[str, Any]] = get_json(
        ctx.cluster, "get", "pods", "-n", "default", "-l", WORKLOAD_LABEL
    )["items"]
    return items


def run_pods(ctx: Context, args: Any) -> None:
    """One workload pod per selected node (``name``: a name prefix, so a later step
    can start a second generation), then wait until each has its IP."""
    spec = as_mapping(args, "nodes")
    prefix = spec.get("name", "web")
    names = []
    for node in ctx.nodes(spec.get("nodes", "all")):
        name = f"{prefix}-{ctx.short(node)}"
        run_kubectl(
            ctx.cluster, "apply", "-f", "-", input=json.dumps(_pod(name, node.name))
        )
        names.append(name)
    ctx.record("pods", sorted({*ctx.found.get("pods", []), *names}))
    if spec.get("wait", "running") == "created":
        return

    def running() -> bool:
        pods = {p["metadata"]["name"]: p for p in workload_pods(ctx)}
        return all(
            n in pods and (pods[n].get("status") or {}).get("podIP") for n in names
        )

    until(running, timeout=float(spec.get("timeout", 60)), what=f"pods {names} up")


def run_delete_pods(ctx: Context, args: Any) -> None:
    """Delete the workload pods (and wait until they are gone)."""
    run_kubectl(
        ctx.cluster,
        "delete",
        "pods",
        "-n",
        "default",
        "-l",
        WORKLOAD_LABEL,
        "--wait=true",
        "--timeout=60s",
        timeout=90,
    )
    ctx.record("pods", [])


KUBECTL = Action(
    "kubectl", "kubectl", "kubectl once against the cluster", run_kubectl_step
)
KUBECTL_INTERRUPTED = Action(
    "kubectl_interrupted",
    "kubectl",
    "kubectl VERB -f MANIFEST killed after its N-th object",
    run_interrupted,
)
PODS = Action("pods", "kubectl", "one workload pod per node, up", run_pods)
DELETE_PODS = Action(
    "delete_pods", "kubectl", "delete the workload pods", run_delete_pods
)
