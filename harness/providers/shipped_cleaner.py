"""The cleaner's command line as it ships, for every provider: ``deploy/job.yaml``.

kind runs that Job itself (:mod:`harness.providers.kind.cleaner_job`). The sandbox runs
the same command inside its nodes: the Job container's command (``cniscrub``, the
console script the image installs as its entry point) is resolved beside this
interpreter, where ``pip install`` put the same console script.

>>> job_command()
['cniscrub']
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import yaml

from cniscrub.deploy import manifest_text

CONTAINER = "cniscrub"


def job_template() -> dict[str, Any]:
    """The shipped Job manifest (a fresh copy on every call)."""
    job: dict[str, Any] = yaml.safe_load(manifest_text("job.yaml"))
    return job


def job_container(job: dict[str, Any] | None = None) -> dict[str, Any]:
    containers = (job or job_template())["spec"]["template"]["spec"]["containers"]
    (container,) = [c for c in containers if c["name"] == CONTAINER]
    return dict(container)


def job_command() -> list[str]:
    return list(job_container()["command"])


def local_command() -> list[str]:
    """The Job's command as installed for this interpreter (its console script)."""
    command = job_command()
    script = Path(sys.executable).with_name(command[0])
    if not script.exists():
        raise FileNotFoundError(
            f"{script}: the Job's command {command[0]!r} is not installed beside "
            f"{sys.executable} (pip install -e .)"
        )
    return [str(script), *command[1:]]
