"""The node cleaner's Job for one node, made from the shipped ``deploy/job.yaml`` (the
package's ``cniscrub.deploy`` data): only the name, the node, the image, the labels of
this run, the deadline and the command's verb and ``--cni`` are filled in; privileges,
host root at ``/host``, tolerations and the ``--root /host --json`` arguments stay as
shipped.

The default image is ``cniscrub:<package version>``: what ``docker build -f
deploy/Dockerfile -t cniscrub:<version> .`` makes and what the manifest names.

>>> job_name("apply", "lab-worker2")
'cniscrub-clean-lab-worker2'
>>> len(job_name("verify", "ip-10-0-0-1.eu-west-1.compute.internal.example.org"))
52
>>> node_args("plan", "flannel")
['plan', '--cni', 'flannel', '--root', '/host', '--json']
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from cniscrub import __version__
from cniscrub.deploy import manifest_text

__all__ = [
    "CONTAINER",
    "NODE_ANNOTATION",
    "RUN_LABEL",
    "build_job",
    "default_image",
    "job_name",
    "node_args",
]

CONTAINER = "cniscrub"
RUN_LABEL = "cniscrub.io/run"  # every Job and pod of one cluster run
NODE_ANNOTATION = "cniscrub.io/node"  # the node a Job is pinned to
VERBS = {"apply": "clean", "plan": "plan", "verify": "verify"}
MAX_NAME = 52  # the Job's pods are "<name>-xxxxx"; label values stop at 63


def default_image() -> str:
    """The image ``deploy/Dockerfile`` builds for this version of the package."""
    return f"cniscrub:{__version__}"


def job_name(command: str, node: str) -> str:
    """``cniscrub-<clean|plan|verify>-<node>``: a valid name, the same on every run
    (``kubectl logs job/cniscrub-clean-NODE``); long node names are cut and hashed."""
    name = f"cniscrub-{VERBS[command]}-{node}".lower()
    name = re.sub(r"[^a-z0-9.-]", "-", name)
    if len(name) > MAX_NAME:
        digest = hashlib.sha256(node.encode()).hexdigest()[:8]
        name = f"{name[: MAX_NAME - 9].rstrip('.-')}-{digest}"
    return name.rstrip(".-")


def template() -> dict[str, Any]:
    """The shipped Job manifest (a fresh copy)."""
    import yaml  # the cluster extra brings it (with the Kubernetes client)

    job: dict[str, Any] = yaml.safe_load(manifest_text("job.yaml"))
    return job


def _container(job: dict[str, Any]) -> dict[str, Any]:
    containers = job["spec"]["template"]["spec"]["containers"]
    container: dict[str, Any] = next(c for c in containers if c["name"] == CONTAINER)
    return container


def node_args(command: str, cni: str) -> list[str]:
    """The cleaner's arguments in the Job: the shipped ones with this command's verb
    and CNI (``--yes`` only for apply)."""
    args = list(_container(template())["args"])
    args[0] = command
    args[args.index("--cni") + 1] = cni
    if command != "apply":
        args.remove("--yes")
    return args


def build_job(
    node: str,
    command: str,
    cni: str,
    *,
    image: str,
    namespace: str,
    run_id: str,
    deadline: int,
) -> dict[str, Any]:
    """The Job that runs ``cniscrub <command> --cni <cni>`` on ``node``."""
    job = template()
    meta = job["metadata"]
    meta.update(name=job_name(command, node), namespace=namespace)
    meta["labels"][RUN_LABEL] = run_id
    meta.setdefault("annotations", {})[NODE_ANNOTATION] = node
    spec = job["spec"]
    spec["activeDeadlineSeconds"] = int(deadline)
    spec["template"]["metadata"]["labels"][RUN_LABEL] = run_id
    spec["template"]["spec"]["nodeName"] = node
    container = _container(job)
    container.update(image=image, args=node_args(command, cni))
    return job
