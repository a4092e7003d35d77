"""The stand-in's Job API defaults and the emulated Job / TTL-after-finished
controllers, driven in-process with a fake clock.

Facts: kubernetes.io "Jobs" (https://kubernetes.io/docs/concepts/workloads/controllers/job/):
"Specifying your own Pod selector" (generated selector and template labels), "Pod
backoff failure policy" (backoffLimit, 10 s back-off doubled, 6 min cap), "Job
termination and cleanup" (activeDeadlineSeconds, DeadlineExceeded), "Terminal Job
conditions" (FailureTarget / SuccessCriteriaMet before Failed / Complete since v1.31),
"Clean up finished jobs automatically" (ttlSecondsAfterFinished).
"""

from __future__ import annotations

from typing import Any

import pytest

from harness.emulation.apiserver.errors import ApiError
from harness.emulation.apiserver.store import Store
from harness.emulation.controlplane.jobs import JobController, backoff


class Clock:
    def __init__(self) -> None:
        self.t = 1_000_000.0

    def __call__(self) -> float:
        return self.t


def _job(name: str = "j", **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {
            "template": {
                "metadata": {"labels": {"app": "x"}},
                "spec": {
                    "restartPolicy": "Never",
                    "nodeName": "n1",
                    "containers": [{"name": "c", "image": "busybox"}],
                },
            },
            **spec,
        },
    }


@pytest.fixture
def world() -> tuple[Store, JobController, Clock]:
    store = Store(pod_deletion="immediate")
    clock = Clock()
    return store, JobController(store, clock=clock), clock


def _pods(store: Store, job: str = "j") -> list[dict[str, Any]]:
    return store.list("pods", "default", label_selector=f"job-name={job}")


def _finish(store: Store, pod: dict[str, Any], rc: int) -> None:
    phase = "Succeeded" if rc == 0 else "Failed"
    state = {
        "terminated": {"exitCode": rc, "reason": "Completed" if rc == 0 else "Error"}
    }
    store.patch(
        "pods",
        pod["metadata"]["name"],
        {
            "status": {
                "phase": phase,
                "containerStatuses": [{"name": "c", "restartCount": 0, "state": state}],
            }
        },
        "merge",
        "default",
        subresource="status",
    )


def _conditions(store: Store, name: str = "j") -> list[tuple[str, str]]:
    job = store.get("jobs", name, "default")
    return [(c["type"], c["reason"]) for c in job["status"].get("conditions", [])]


def test_create_defaults_selector_and_template_labels(world: Any) -> None:
    store, _, _ = world
    job = store.create("jobs", _job())
    uid = job["metadata"]["uid"]
    assert job["spec"]["selector"] == {
        "matchLabels": {"batch.kubernetes.io/controller-uid": uid}
    }
    labels = job["spec"]["template"]["metadata"]["labels"]
    assert labels == {
        "app": "x",
        "batch.kubernetes.io/controller-uid": uid,
        "batch.kubernetes.io/job-name": "j",
        "controller-uid": uid,
        "job-name": "j",
    }
    spec = job["spec"]
    assert (spec["backoffLimit"], spec["parallelism"], spec["completions"]) == (6, 1, 1)
    assert spec["completionMode"] == "NonIndexed" and job["status"] == {}


def test_restart_policy_always_is_invalid(world: Any) -> None:
    store, _, _ = world
    job = _job()
    job["spec"]["template"]["spec"]["restartPolicy"] = "Always"
    with pytest.raises(ApiError) as err:
        store.create("jobs", job)
    assert err.value.code == 422
    assert 'restartPolicy: Unsupported value: "Always"' in err.value.status()["message"]


def test_success_creates_owned_pod_then_complete(world: Any) -> None:
    store, ctl, _ = world
    job = store.create("jobs", _job(ttlSecondsAfterFinished=30))
    ctl.reconcile()
    (pod,) = _pods(store)
    assert pod["metadata"]["name"].startswith("j-")
    (ref,) = pod["metadata"]["ownerReferences"]
    assert (ref["kind"], ref["uid"], ref["controller"]) == (
        "Job",
        job["metadata"]["uid"],
        True,
    )
    assert store.get("jobs", "j", "default")["status"]["active"] == 1
    ctl.reconcile()
    assert len(_pods(store)) == 1  # never a second pod for one completion
    _finish(store, pod, 0)
    ctl.reconcile()
    status = store.get("jobs", "j", "default")["status"]
    assert _conditions(store) == [
        ("SuccessCriteriaMet", "CompletionsReached"),
        ("Complete", "CompletionsReached"),
    ]
    assert status["succeeded"] == 1 and "active" not in status
    assert status["completionTime"] and status["startTime"]
    reasons = [e["reason"] for e in store.list("events", "default")]
    assert "SuccessfulCreate" in reasons and "Completed" in reasons


def test_pod_failure_fails_the_job_at_backoff_limit_zero(world: Any) -> None:
    store, ctl, _ = world
    store.create("jobs", _job(backoffLimit=0))
    ctl.reconcile()
    _finish(store, _pods(store)[0], 3)
    ctl.reconcile()
    assert _conditions(store) == [
        ("FailureTarget", "BackoffLimitExceeded"),
        ("Failed", "BackoffLimitExceeded"),
    ]
    status = store.get("jobs", "j", "default")["status"]
    assert status["failed"] == 1 and "completionTime" not in status
    assert len(_pods(store)) == 1  # no replacement


def test_backoff_limit_retries_after_the_backoff_delay(world: Any) -> None:
    store, ctl, clock = world
    store.create("jobs", _job(backoffLimit=1))
    ctl.reconcile()
    _finish(store, _pods(store)[0], 1)
    ctl.reconcile()
    assert len(_pods(store)) == 1 and _conditions(store) == []  # backing off
    clock.t += backoff(1) - 1
    ctl.reconcile()
    assert len(_pods(store)) == 1
    clock.t += 1
    ctl.reconcile()
    second = [
        p
        for p in _pods(store)
        if "phase" not in p["status"] or p["status"]["phase"] == "Pending"
    ]
    assert len(_pods(store)) == 2 and len(second) == 1
    _finish(store, second[0], 1)
    ctl.reconcile()
    assert ("Failed", "BackoffLimitExceeded") in _conditions(store)
    assert store.get("jobs", "j", "default")["status"]["failed"] == 2


def test_active_deadline_deletes_pods_and_fails(world: Any) -> None:
    store, ctl, clock = world
    store.create("jobs", _job(activeDeadlineSeconds=5))
    ctl.reconcile()
    assert len(_pods(store)) == 1
    clock.t += 6
    ctl.reconcile()
    assert _pods(store) == []  # the active pod was deleted
    assert _conditions(store) == [
        ("FailureTarget", "DeadlineExceeded"),
        ("Failed", "DeadlineExceeded"),
    ]


def test_parallelism_and_completions(world: Any) -> None:
    store, ctl, _ = world
    store.create("jobs", _job(completions=3, parallelism=2))
    ctl.reconcile()
    assert len(_pods(store)) == 2
    for pod in _pods(store):
        _finish(store, pod, 0)
    ctl.reconcile()
    live = [p for p in _pods(store) if p["status"].get("phase") == "Pending"]
    assert len(live) == 1  # only one completion left
    _finish(store, live[0], 0)
    ctl.reconcile()
    assert ("Complete", "CompletionsReached") in _conditions(store)


def test_ttl_after_finished_deletes_job_and_pods(world: Any) -> None:
    store, ctl, clock = world
    store.create("jobs", _job(ttlSecondsAfterFinished=10))
    ctl.reconcile()
    _finish(store, _pods(store)[0], 0)
    ctl.reconcile()
    ctl.reconcile()
    assert store.list("jobs", "default")  # not yet
    clock.t = 10**10  # long after the finish time
    ctl.reconcile()
    assert store.list("jobs", "default") == [] and _pods(store) == []


def test_jobs_without_ttl_stay(world: Any) -> None:
    store, ctl, clock = world
    store.create("jobs", _job())
    ctl.reconcile()
    _finish(store, _pods(store)[0], 0)
    ctl.reconcile()
    clock.t = 10**10
    ctl.reconcile()
    assert len(store.list("jobs", "default")) == 1
