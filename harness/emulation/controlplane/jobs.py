"""The Job controller and the TTL-after-finished controller of the sandbox's control
plane (test emulation of kube-controller-manager's ``job`` and ``ttl-after-finished``
controllers, batch/v1 as of Kubernetes v1.32).

Facts reproduced (kubernetes.io "Jobs": "Pod backoff failure policy", "Job termination
and cleanup", "Terminal Job conditions", "Clean up finished jobs automatically"; batch/v1
``JobStatus``):

- the controller creates pods from the template (``generateName: <job>-``, owned by the
  Job with ``controller: true``) until ``completions`` pods succeeded, at most
  ``parallelism`` at a time; ``status.active/ready/succeeded/failed/terminating`` and
  ``startTime`` follow the pods;
- a failed pod counts towards ``backoffLimit`` (with ``restartPolicy: OnFailure`` so do
  container restarts); replacements come after a back-off of 10 s doubled per failure
  (capped at 6 min); more failures than ``backoffLimit`` fail the Job
  (``BackoffLimitExceeded``, "Job has reached the specified backoff limit"), as does
  running past ``activeDeadlineSeconds`` (``DeadlineExceeded``, "Job was active longer
  than specified deadline"): the active pods are deleted;
- since v1.31 the terminal condition is added once no pod is left running or
  terminating, after an interim one with the same reason: ``FailureTarget`` then
  ``Failed``; ``SuccessCriteriaMet`` then ``Complete`` (``CompletionsReached``,
  "Reached expected number of succeeded pods") with ``completionTime``;
- ``ttlSecondsAfterFinished`` seconds after a Job finished, the TTL controller deletes
  it (its pods go with it through their ownerReferences).

Not reproduced: Indexed completion mode, pod failure and success policies, suspension
beyond "no new pods", and the ``batch.kubernetes.io/job-tracking`` pod finalizer.
"""

from __future__ import annotations

import calendar
import logging
import time
from dataclasses import dataclass, field
from typing import Any

from harness.emulation.apiserver.errors import ApiError
from harness.emulation.apiserver.objects import now
from harness.emulation.apiserver.store import Store

log = logging.getLogger(__name__)

BACKOFF_BASE = 10.0
BACKOFF_MAX = 360.0
COMPONENT = "job-controller"
REASONS = {
    "BackoffLimitExceeded": "Job has reached the specified backoff limit",
    "DeadlineExceeded": "Job was active longer than specified deadline",
    "CompletionsReached": "Reached expected number of succeeded pods",
}
TERMINAL = ("Complete", "Failed")
INTERIM = {"FailureTarget": "Failed", "SuccessCriteriaMet": "Complete"}
Obj = dict[str, Any]


def parse_time(stamp: str) -> float:
    """Seconds since the epoch of an API timestamp (``2026-11-27T05:45:55Z``)."""
    return float(calendar.timegm(time.strptime(stamp[:19], "%Y-%m-%dT%H:%M:%S")))


def condition(obj: Obj, type_: str) -> Obj | None:
    for cond in (obj.get("status") or {}).get("conditions") or []:
        if cond.get("type") == type_ and cond.get("status") == "True":
            return dict(cond)
    return None


def finished_at(job: Obj) -> float | None:
    """When the Job reached ``Complete`` or ``Failed`` (None while it runs)."""
    for type_ in TERMINAL:
        cond = condition(job, type_)
        if cond is not None:
            return parse_time(cond.get("lastTransitionTime") or now())
    return None


def _phase(pod: Obj) -> str:
    return str((pod.get("status") or {}).get("phase") or "Pending")


def _restarts(pod: Obj) -> int:
    statuses = (pod.get("status") or {}).get("containerStatuses") or []
    return sum(int(s.get("restartCount") or 0) for s in statuses)


@dataclass
class _Memory:
    """What the controller keeps per Job between passes (the real one keeps it in the
    status and the pods' tracking finalizers)."""

    counted: set[str] = field(default_factory=set)
    last_failure: float = 0.0
    started: float | None = None  # on the controller's clock


@dataclass
class _Pods:
    active: list[Obj]
    terminating: list[Obj]
    ready: int


class JobController:
    """Reconciles every Job of a store; call :meth:`reconcile` on each change."""

    def __init__(self, store: Store, clock: Any = time.time) -> None:
        self.store = store
        self.clock = clock
        self._memory: dict[str, _Memory] = {}

    def reconcile(self) -> None:
        jobs = self.store.list("jobs")
        owned: dict[str, list[Obj]] = {}
        for pod in self.store.list("pods"):
            for ref in pod["metadata"].get("ownerReferences") or []:
                if ref.get("kind") == "Job" and ref.get("controller"):
                    owned.setdefault(ref["uid"], []).append(pod)
        for job in jobs:
            try:
                self._one(job, owned.get(job["metadata"]["uid"], []))
            except ApiError as exc:  # e.g. deleted meanwhile: the next pass
                log.debug("job %s: %s", job["metadata"]["name"], exc)
        live = {j["metadata"]["uid"] for j in jobs}
        for uid in [u for u in self._memory if u not in live]:
            del self._memory[uid]

    # -- one Job -----------------------------------------------------------------
    def _one(self, job: Obj, pods: list[Obj]) -> None:
        meta = job["metadata"]
        if meta.get("deletionTimestamp"):
            return
        if finished_at(job) is not None:
            self._expire(job)
            return
        memory = self._memory.setdefault(meta["uid"], _Memory())
        status = dict(job.get("status") or {})
        self._count(job, pods, memory, status)
        split = self._split(pods)
        if "startTime" not in status:
            status["startTime"], memory.started = now(), self.clock()
        elif memory.started is None:  # a Job from before this controller started
            memory.started = parse_time(status["startTime"])
        target = self._target(job, status, split, memory.started)
        if target is not None:
            self._stop(job, split, status, target)
        elif not job["spec"].get("suspend"):
            self._create(job, status, split, memory)
        self._write(job, status, split)

    def _count(self, job: Obj, pods: list[Obj], memory: _Memory, status: Obj) -> None:
        for pod in pods:
            uid, phase = pod["metadata"]["uid"], _phase(pod)
            if phase not in ("Succeeded", "Failed") or uid in memory.counted:
                continue
            memory.counted.add(uid)
            key = "succeeded" if phase == "Succeeded" else "failed"
            status[key] = int(status.get(key) or 0) + 1
            if phase == "Failed":
                memory.last_failure = self.clock()

    @staticmethod
    def _split(pods: list[Obj]) -> _Pods:
        live = [p for p in pods if _phase(p) not in ("Succeeded", "Failed")]
        active = [p for p in live if not p["metadata"].get("deletionTimestamp")]
        terminating = [p for p in live if p["metadata"].get("deletionTimestamp")]
        ready = sum(
            1
            for p in active
            if any(
                c.get("type") == "Ready" and c.get("status") == "True"
                for c in (p.get("status") or {}).get("conditions") or []
            )
        )
        return _Pods(active, terminating, ready)

    def _target(
        self, job: Obj, status: Obj, split: _Pods, started: float
    ) -> tuple[str, str] | None:
        """(terminal condition, reason) the Job has reached, if any."""
        spec = job["spec"]
        for interim, terminal in INTERIM.items():
            cond = condition({"status": status}, interim)
            if cond is not None:
                return terminal, str(cond.get("reason"))
        deadline = spec.get("activeDeadlineSeconds")
        if deadline is not None and self.clock() - started >= float(deadline):
            return "Failed", "DeadlineExceeded"
        failures = int(status.get("failed") or 0)
        if spec["template"]["spec"].get("restartPolicy") == "OnFailure":
            failures += sum(_restarts(p) for p in split.active)
        if failures > int(spec.get("backoffLimit", 6)):
            return "Failed", "BackoffLimitExceeded"
        succeeded = int(status.get("succeeded") or 0)
        completions = spec.get("completions")
        if (completions is not None and succeeded >= int(completions)) or (
            completions is None and succeeded > 0 and not split.active
        ):
            return "Complete", "CompletionsReached"
        return None

    def _stop(
        self, job: Obj, split: _Pods, status: Obj, target: tuple[str, str]
    ) -> None:
        terminal, reason = target
        interim = next(i for i, t in INTERIM.items() if t == terminal)
        conditions = list(status.get("conditions") or [])
        if condition({"status": status}, interim) is None:
            conditions.append(_condition(interim, reason))
            if terminal == "Failed":
                self._event(job, reason, REASONS[reason], warning=True)
            else:
                self._event(job, "Completed", "Job completed")
        for pod in list(split.active):
            meta = pod["metadata"]
            left = self.store.delete("pods", meta["name"], meta["namespace"])
            split.active.remove(pod)
            if left["metadata"].get("deletionTimestamp"):  # its kubelet stops it
                split.terminating.append(left)
            self._event(job, "SuccessfulDelete", f"Deleted pod: {meta['name']}")
        status["conditions"] = conditions

    def _create(self, job: Obj, status: Obj, split: _Pods, memory: _Memory) -> None:
        spec = job["spec"]
        succeeded = int(status.get("succeeded") or 0)
        wanted = int(spec.get("parallelism", 1))
        if spec.get("completions") is not None:
            wanted = min(wanted, int(spec["completions"]) - succeeded)
        failed = int(status.get("failed") or 0)
        if failed and self.clock() < memory.last_failure + backoff(failed):
            return
        for _ in range(wanted - len(split.active) - len(split.terminating)):
            pod = self.store.create("pods", pod_for(job), job["metadata"]["namespace"])
            split.active.append(pod)
            self._event(
                job, "SuccessfulCreate", f"Created pod: {pod['metadata']['name']}"
            )

    def _write(self, job: Obj, status: Obj, split: _Pods) -> None:
        conditions = list(status.get("conditions") or [])
        still = split.active or split.terminating
        for interim, terminal in INTERIM.items():
            cond = condition({"status": status}, interim)
            done = condition({"status": status}, terminal) is not None
            if cond is not None and not still and not done:
                conditions.append(_condition(terminal, str(cond["reason"])))
                if terminal == "Complete":
                    status["completionTime"] = now()
        status.update(
            conditions=conditions,
            active=len(split.active),
            ready=split.ready,
            terminating=len(split.terminating),
            uncountedTerminatedPods={},
        )
        for key in ("active", "succeeded", "failed", "conditions"):
            if not status.get(key):
                status.pop(key, None)
        if status != (job.get("status") or {}):
            meta = job["metadata"]
            self.store.replace(
                "jobs",
                meta["name"],
                {**job, "status": status},
                meta["namespace"],
                "status",
            )

    # -- TTL after finished ----------------------------------------------------------
    def _expire(self, job: Obj) -> None:
        ttl = job["spec"].get("ttlSecondsAfterFinished")
        done = finished_at(job)
        if ttl is None or done is None or self.clock() < done + float(ttl):
            return
        meta = job["metadata"]
        log.info(
            "job %s/%s: ttl after finished expired", meta["namespace"], meta["name"]
        )
        self.store.delete(
            "jobs", meta["name"], meta["namespace"], propagation_policy="Foreground"
        )

    def _event(
        self, job: Obj, reason: str, message: str, warning: bool = False
    ) -> None:
        kind = "Warning" if warning else "Normal"
        try:
            self.store.record_event(job, reason, message, kind, COMPONENT)
        except ApiError as exc:
            log.debug("event for job %s: %s", job["metadata"]["name"], exc)


def backoff(failures: int) -> float:
    """The delay before the next pod after ``failures`` failed pods.

    >>> [backoff(n) for n in (1, 2, 3, 10)]
    [10.0, 20.0, 40.0, 360.0]
    """
    return min(BACKOFF_BASE * 2 ** max(failures - 1, 0), BACKOFF_MAX)


def _condition(type_: str, reason: str) -> Obj:
    stamp = now()
    return {
        "type": type_,
        "status": "True",
        "lastProbeTime": stamp,
        "lastTransitionTime": stamp,
        "reason": reason,
        "message": REASONS.get(reason, ""),
    }


def pod_for(job: Obj) -> Obj:
    """A new pod of the Job's template, owned by the Job."""
    meta, template = job["metadata"], job["spec"]["template"]
    tmeta = template.get("metadata") or {}
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "generateName": f"{meta['name']}-",
            "namespace": meta["namespace"],
            "labels": dict(tmeta.get("labels") or {}),
            "annotations": dict(tmeta.get("annotations") or {}),
            "ownerReferences": [
                {
                    "apiVersion": "batch/v1",
                    "kind": "Job",
                    "name": meta["name"],
                    "uid": meta["uid"],
                    "controller": True,
                    "blockOwnerDeletion": True,
                }
            ],
        },
        "spec": dict(template["spec"]),
    }
