"""The Kubernetes manifests that run the shipped cleaner on nodes, as package data.

``job.yaml``             one Job pinned to one node: ``cniscrub apply`` against the host
                         root mounted at ``/host`` (privileged, hostNetwork, hostPID,
                         tolerates every taint)
``plan-daemonset.yaml``  ``cniscrub plan`` on every node, read-only, report in the log

The same files are ``deploy/job.yaml`` and ``deploy/plan-daemonset.yaml`` in the source
tree (symbolic links to these). Callers fill in the Job's name, node, image and args.

>>> "kind: Job" in manifest_text("job.yaml")
True
"""

from __future__ import annotations

from importlib import resources

MANIFESTS = ("job.yaml", "plan-daemonset.yaml")


def manifest_text(name: str) -> str:
    """The text of one shipped manifest (``job.yaml`` or ``plan-daemonset.yaml``)."""
    if name not in MANIFESTS:
        raise ValueError(f"no shipped manifest {name!r} (have: {', '.join(MANIFESTS)})")
    return resources.files(__name__).joinpath(name).read_text()
