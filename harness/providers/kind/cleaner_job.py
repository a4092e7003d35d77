"""Run the shipped cleaner on one node as production does: the Job of ``deploy/job.yaml``
pinned to the node, its JSON report read from the pod log.

The Job's container command (``cniscrub``, the image's entry point) stays as shipped;
only the name, the node, the image and the args are filled in. The args are the
caller's argv with ``--root /host`` added (the host root is mounted there), as the
shipped Job does for ``apply``. A pod log interleaves stdout and stderr, so with
``--json`` the report (one JSON document) is cut out of the log as ``stdout`` and the
rest is ``stderr``; the exit code is the container's.

>>> job_args(["plan", "--cni", "flannel", "--json"])
['plan', '--cni', 'flannel', '--json', '--root', '/host']
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Mapping, Sequence
from typing import Any

from cniscrub.cluster import reports
from cniscrub.node.command import CommandResult, as_argv
from harness.providers.base import ProviderError
from harness.providers.kind.commands import Kubectl
from harness.providers.shipped_cleaner import CONTAINER, job_template
from harness.wait import WaitTimeout, until

HOST_ROOT = "/host"
_ROOTED = ("plan", "apply", "verify")


def job_args(argv: Sequence[str]) -> list[str]:
    """The Job's args: ``argv``, with ``--root /host`` for plan/apply/verify and the
    journal path of ``restore`` seen through ``/host``."""
    args = list(as_argv(argv))
    if args[0] in _ROOTED and not any(
        a == "--root" or a.startswith("--root=") for a in args
    ):
        args += ["--root", HOST_ROOT]
    if args[0] == "restore":
        args = [
            f"{HOST_ROOT}{a}"
            if a.startswith("/") and not a.startswith(HOST_ROOT + "/")
            else a
            for a in args
        ]
    return args


def job_for(
    node: str,
    argv: Sequence[str],
    image: str,
    env: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The shipped Job, pinned to ``node``, running ``cniscrub <job_args(argv)>``
    with ``env`` added to the container's environment.

    >>> c = job_for("n", ["apply"], "img", {"CNISCRUB_DEBUG_KILL_AT": "3"})
    >>> c["spec"]["template"]["spec"]["containers"][0]["env"][-1]
    {'name': 'CNISCRUB_DEBUG_KILL_AT', 'value': '3'}
    """
    job = job_template()
    stamp = hashlib.sha256(f"{node} {argv} {time.time_ns()}".encode()).hexdigest()[:8]
    job["metadata"]["name"] = f"cniscrub-{args_verb(argv)}-{stamp}"
    pod = job["spec"]["template"]["spec"]
    pod["nodeName"] = node
    (container,) = [c for c in pod["containers"] if c["name"] == CONTAINER]
    container["image"] = image
    container["args"] = job_args(argv)
    if env:
        wanted = [{"name": k, "value": v} for k, v in env.items()]
        kept = [e for e in container.get("env") or [] if e["name"] not in env]
        container["env"] = kept + wanted
    return job


def args_verb(argv: Sequence[str]) -> str:
    return "".join(ch for ch in argv[0].lower() if ch.isalnum())[:20] or "run"


def run_job(kubectl: Kubectl, job: dict[str, Any], timeout: float) -> CommandResult:
    """Apply the Job, wait until it finished (bounded), read exit code and log,
    delete it. A non-zero exit is returned, not raised."""
    name, namespace = job["metadata"]["name"], job["metadata"]["namespace"]
    argv = ("cniscrub", *job["spec"]["template"]["spec"]["containers"][0]["args"])
    kubectl("apply", "-f", "-", input=json.dumps(job))
    try:
        pod = _wait_finished(kubectl, namespace, name, timeout)
        rc = _exit_code(pod)
        log = kubectl(
            "-n", namespace, "logs", f"pod/{pod['metadata']['name']}", "-c", CONTAINER
        )
    finally:
        kubectl(
            "-n", namespace, "delete", "job", name, "--ignore-not-found", "--wait=false"
        )
    out, err = split_log(log.stdout) if "--json" in argv else (log.stdout, "")
    return CommandResult(argv, rc, out.encode(), err.encode())


def _wait_finished(
    kubectl: Kubectl, namespace: str, name: str, timeout: float
) -> dict[str, Any]:
    last: dict[str, Any] = {}

    def finished() -> dict[str, Any]:
        pods = kubectl.json("-n", namespace, "get", "pods", "-l", f"job-name={name}")
        for pod in pods["items"]:
            last[pod["metadata"]["name"]] = pod.get("status", {})
            if _terminated(pod) is not None:
                return dict(pod)
        return {}

    try:
        return until(
            finished, timeout=timeout, interval=1.0, what=f"Job {namespace}/{name}"
        )
    except WaitTimeout as exc:
        raise WaitTimeout(f"{exc}; pods: {json.dumps(last)[:2000]}") from None


def _terminated(pod: dict[str, Any]) -> dict[str, Any] | None:
    for status in (pod.get("status") or {}).get("containerStatuses") or []:
        if status.get("name") == CONTAINER:
            state = (status.get("state") or {}).get("terminated")
            return dict(state) if state else None
    return None


def _exit_code(pod: dict[str, Any]) -> int:
    state = _terminated(pod)
    if state is None or "exitCode" not in state:
        raise ProviderError(f"pod {pod['metadata']['name']} has no exit code")
    return int(state["exitCode"])


def split_log(log: str) -> tuple[str, str]:
    """(the JSON report as the cleaner printed it, the other lines) from a pod log that
    mixes both streams: the report is cut out as ``cniscrub cluster`` does it."""
    doc, rest = reports.split_log(log)
    rest = rest + "\n" if rest else ""
    return (json.dumps(doc) + "\n" if doc is not None else ""), rest
