"""What kube-apiserver does to a batch/v1 Job on create (a test stand-in, never a
product component): the defaults of ``SetDefaults_Job`` and the Job strategy's
``PrepareForCreate`` (the generated selector and the pod template labels the Job
controller and ``kubectl logs job/NAME`` rely on), and the validation of the pod
template's ``restartPolicy``.

Facts (kubernetes.io "Jobs" page, "Specifying your own Pod selector" and "Pod backoff
failure policy"; batch/v1 API reference): unless ``spec.manualSelector`` is true the
server sets ``spec.selector`` to ``batch.kubernetes.io/controller-uid: <uid>`` and labels
the template with ``batch.kubernetes.io/controller-uid``, ``batch.kubernetes.io/job-name``
and the legacy ``controller-uid`` and ``job-name``; ``backoffLimit`` defaults to 6,
``parallelism`` and ``completions`` to 1 (``completions`` stays unset when only
``parallelism`` is given), ``completionMode`` to ``NonIndexed``, ``suspend`` to false;
a Job's pods may only use ``restartPolicy`` ``Never`` or ``OnFailure``.

>>> job = {"metadata": {"name": "j", "uid": "u1"},
...        "spec": {"template": {"spec": {"restartPolicy": "Never", "containers": []}}}}
>>> job_defaults(job); job["spec"]["selector"], job["spec"]["backoffLimit"]
({'matchLabels': {'batch.kubernetes.io/controller-uid': 'u1'}}, 6)
"""

from __future__ import annotations

from typing import Any

from . import errors
from .resources import lookup

__all__ = ["CONTROLLER_UID", "JOB_NAME", "job_defaults"]

CONTROLLER_UID = "batch.kubernetes.io/controller-uid"
JOB_NAME = "batch.kubernetes.io/job-name"
LEGACY_CONTROLLER_UID = "controller-uid"
LEGACY_JOB_NAME = "job-name"
RESTART_POLICIES = ("OnFailure", "Never")


def _validate(job: dict[str, Any]) -> None:
    name = job["metadata"]["name"]
    template = job["spec"].get("template")
    if not isinstance(template, dict) or not isinstance(template.get("spec"), dict):
        raise errors.invalid(lookup("jobs"), name, "spec.template.spec: Required value")
    policy = template["spec"].get("restartPolicy")
    if policy not in RESTART_POLICIES:
        supported = ", ".join(f'"{p}"' for p in RESTART_POLICIES)
        raise errors.invalid(
            lookup("jobs"),
            name,
            f'spec.template.spec.restartPolicy: Unsupported value: "{policy}": '
            f"supported values: {supported}",
        )


def job_defaults(job: dict[str, Any]) -> None:
    """Default, label and validate a Job being created (in place)."""
    meta, spec = job["metadata"], job.setdefault("spec", {})
    _validate(job)
    if spec.get("parallelism") is None:
        spec["parallelism"] = 1
        spec.setdefault("completions", 1)
    spec.setdefault("backoffLimit", 6)
    spec.setdefault("completionMode", "NonIndexed")
    spec.setdefault("suspend", False)
    spec.setdefault("podReplacementPolicy", "TerminatingOrFailed")
    template = spec["template"]
    if not spec.get("manualSelector"):
        spec["selector"] = {"matchLabels": {CONTROLLER_UID: meta["uid"]}}
        labels = dict((template.get("metadata") or {}).get("labels") or {})
        labels.update(
            {
                CONTROLLER_UID: meta["uid"],
                JOB_NAME: meta["name"],
                LEGACY_CONTROLLER_UID: meta["uid"],
                LEGACY_JOB_NAME: meta["name"],
            }
        )
        template.setdefault("metadata", {})["labels"] = labels
    job["status"] = {}
