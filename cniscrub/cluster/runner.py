"""Run the node cleaner as one Job per node, at most ``parallel`` at a time, and
collect each node's report from its pod log.

One watch on this run's pods (label ``cniscrub.io/run``) tells when a container
terminated, or cannot start (the image cannot be pulled); the nodes are re-read every
second, and a node whose kubelet stops posting status (Ready=Unknown) while its Job
waits is reported ``unreachable`` and its Job deleted, as is a Job that runs past
``--timeout``. A finished Job is deleted (``--keep-jobs`` leaves it to the Job's
``ttlSecondsAfterFinished``) before the next one starts, so at most ``parallel`` Jobs
of the run exist at any time. A Job of the same name left by an earlier run is
replaced. Ctrl-C deletes the run's Jobs.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from cniscrub.cluster.api import Api
from cniscrub.cluster.errors import ApiFailure, Conflict, NotFound
from cniscrub.cluster.jobs import CONTAINER
from cniscrub.cluster.kinds import kind
from cniscrub.cluster.model import BACKGROUND, ApiCall, NodeResult
from cniscrub.cluster.podwatch import PodFeed
from cniscrub.cluster.progress import Progress
from cniscrub.cluster.reports import split_log, verdict

__all__ = ["JobRunner", "jobs_by_node", "node_path"]

log = logging.getLogger(__name__)
NODE_CHECK = 1.0
GONE_TIMEOUT = 30.0
HOST_ROOT = "/host"
# a container that cannot start (kubelet waiting reasons): reported at once
CANNOT_START = (
    "ErrImagePull",
    "ImagePullBackOff",
    "InvalidImageName",
    "ErrImageNeverPull",
    "CreateContainerConfigError",
    "CreateContainerError",
)
Obj = dict[str, Any]


@dataclass
class Slot:
    node: str
    name: str
    uid: str
    started: float


def _terminated(pod: Obj) -> tuple[str, Obj] | None:
    """(``terminated``/``waiting``, state) of the cleaner container, when decisive;
    a pod that ended without it having run (evicted, rejected) is ``waiting`` too."""
    status = pod.get("status") or {}
    for st in status.get("containerStatuses") or []:
        if st.get("name") != CONTAINER:
            continue
        state = st.get("state") or {}
        if "terminated" in state:
            return "terminated", state["terminated"]
        waiting = state.get("waiting") or {}
        if waiting.get("reason") in CANNOT_START:
            return "waiting", waiting
    if status.get("phase") in ("Failed", "Succeeded"):
        return "waiting", {
            "reason": status.get("reason") or status["phase"],
            "message": status.get("message", ""),
        }
    return None


def node_path(path: str | None) -> str | None:
    """A path the cleaner printed inside the pod (under ``/host``), as on the node."""
    if path and path.startswith(HOST_ROOT + "/"):
        return path[len(HOST_ROOT) :]
    return path


class JobRunner:
    """Runs the plan's Jobs (see the module docstring)."""

    def __init__(
        self,
        api: Api,
        jobs: dict[str, Obj],
        *,
        command: str,
        parallel: int,
        timeout: float,
        keep_jobs: bool,
        progress: Progress,
        ready: Callable[[], dict[str, str]],
    ) -> None:
        self.api, self.jobs, self.command = api, jobs, command
        self.parallel, self.timeout, self.keep = max(1, parallel), timeout, keep_jobs
        self.progress, self.read_nodes = progress, ready
        self.results: dict[str, NodeResult] = {}
        self.running: dict[str, Slot] = {}
        self.ready: dict[str, str] = {}

    def run(
        self, nodes: Sequence[str], run_id: str, namespace: str
    ) -> list[NodeResult]:
        self.ready = self.read_nodes()
        feed = PodFeed(self.api, namespace, run_id)
        pending = deque(nodes)
        checked = time.monotonic()
        try:
            while pending or self.running:
                self._fill(pending)
                for type_, pod in feed.drain(0.2):
                    self._on_pod(type_, pod)
                if time.monotonic() - checked >= NODE_CHECK:
                    checked = time.monotonic()
                    self._check_nodes()
                self._check_deadlines()
        except BaseException:
            for slot in list(self.running.values()):
                self._delete(slot)
                self._result(slot, "failed", message="interrupted: the Job was deleted")
            raise
        finally:
            feed.stop()
        return [self.results[n] for n in nodes]

    # -- starting ---------------------------------------------------------------------
    def _fill(self, pending: deque[str]) -> None:
        while pending and len(self.running) < self.parallel:
            node = pending.popleft()
            if self.ready.get(node, "Unknown") == "Unknown":
                why = "node gone" if node not in self.ready else "Ready=Unknown"
                self._done(
                    NodeResult(
                        node,
                        "unreachable",
                        message=f"{why}: no Job started; re-run when it is back",
                    )
                )
                continue
            try:
                created = self._create(self.jobs[node])
            except ApiFailure as exc:  # e.g. forbidden, no such namespace
                self._done(NodeResult(node, "failed", message=f"no Job: {exc}"))
                continue
            slot = Slot(
                node,
                created["metadata"]["name"],
                created["metadata"]["uid"],
                time.monotonic(),
            )
            self.running[slot.name] = slot
            self.progress.job_started(node)

    def _create(self, job: Obj) -> Obj:
        meta = job["metadata"]
        call = ApiCall("POST", kind("Job").path(meta["namespace"]), body=job)
        try:
            return dict(self.api.request(call))
        except Conflict:  # an earlier run's Job of the same name: replace it
            self._delete_name(meta["namespace"], meta["name"])
            self._wait_gone(meta["namespace"], meta["name"])
            return dict(self.api.request(call))

    # -- watching ---------------------------------------------------------------------
    def _on_pod(self, type_: str, pod: Obj) -> None:
        meta = pod.get("metadata") or {}
        refs = meta.get("ownerReferences") or []
        slot = next(
            (
                s
                for s in self.running.values()
                if any(r.get("uid") == s.uid for r in refs)
            ),
            None,
        )
        if slot is None or type_ == "DELETED":
            return
        decisive = _terminated(pod)
        if decisive is None:
            return
        what, state = decisive
        if what == "waiting":
            msg = f"{state.get('reason')}: {state.get('message', '')}".strip(": ")
            self._delete(slot)  # its pod never runs: nothing to keep
            self._result(
                slot, "failed", message=f"the cleaner could not start: {msg}", pod=pod
            )
        else:
            self._collect(slot, pod, int(state.get("exitCode", -1)))

    def _collect(self, slot: Slot, pod: Obj, exit_code: int) -> None:
        meta = pod["metadata"]
        try:
            text = self.api.read_log(meta["namespace"], meta["name"], CONTAINER)
        except ApiFailure as exc:
            self._finish(slot, "failed", pod, exit_code, message=f"no log: {exc}")
            return
        doc, rest = split_log(text)
        state, counts, message = verdict(self.command, exit_code, doc)
        if not message and state not in ("clean",) and rest:
            message = rest.splitlines()[-1]
        journal = (
            node_path(str(doc.get("journal"))) if doc and doc.get("journal") else None
        )
        self._finish(slot, state, pod, exit_code, message, doc, counts, journal)

    def _finish(
        self,
        slot: Slot,
        state: str,
        pod: Obj | None,
        exit_code: int | None = None,
        message: str = "",
        report: Obj | None = None,
        counts: dict[str, int] | None = None,
        journal: str | None = None,
    ) -> None:
        if not self.keep:
            self._delete(slot)
        result = self._result(slot, state, exit_code, message, pod)
        result.report, result.counts, result.journal = report, counts or {}, journal

    def _result(
        self,
        slot: Slot,
        state: str,
        exit_code: int | None = None,
        message: str = "",
        pod: Obj | None = None,
    ) -> NodeResult:
        self.running.pop(slot.name, None)
        result = NodeResult(
            slot.node,
            state,
            exit_code,
            slot.name,
            (pod or {}).get("metadata", {}).get("name"),
            round(time.monotonic() - slot.started, 3),
            message,
        )
        self._done(result)
        return result

    def _done(self, result: NodeResult) -> None:
        self.results[result.node] = result
        self.progress.job_done(result)

    # -- nodes and deadlines ------------------------------------------------------------
    def _check_nodes(self) -> None:
        try:
            self.ready = self.read_nodes()
        except ApiFailure as exc:
            log.debug("nodes: %s", exc)
            return
        for slot in list(self.running.values()):
            if self.ready.get(slot.node, "Unknown") == "Unknown":
                self._delete(slot)
                self._result(
                    slot,
                    "unreachable",
                    message="the node became unreachable (Ready=Unknown) before its "
                    "cleaner finished; its Job was deleted; re-run when it is back",
                )

    def _check_deadlines(self) -> None:
        now = time.monotonic()
        for slot in list(self.running.values()):
            if now - slot.started > self.timeout:
                self._delete(slot)
                self._result(
                    slot,
                    "timeout",
                    message=f"no result within {self.timeout:g} s; its Job was deleted",
                )

    # -- deleting -----------------------------------------------------------------------
    def _delete(self, slot: Slot) -> None:
        ns = self.jobs[slot.node]["metadata"]["namespace"]
        self._delete_name(ns, slot.name)

    def _delete_name(self, namespace: str, name: str) -> None:
        call = ApiCall("DELETE", kind("Job").path(namespace, name), BACKGROUND)
        try:
            self.api.request(call)
        except NotFound:
            pass
        except ApiFailure as exc:
            log.warning("could not delete Job %s/%s: %s", namespace, name, exc)

    def _wait_gone(self, namespace: str, name: str) -> None:
        deadline = time.monotonic() + GONE_TIMEOUT
        while self.api.find("Job", name, namespace) is not None:
            if time.monotonic() > deadline:
                raise ApiFailure(
                    f"Job {namespace}/{name} of an earlier run does not go away"
                )
            time.sleep(0.2)


def jobs_by_node(calls: Sequence[ApiCall]) -> dict[str, Obj]:
    """The Job bodies of a plan's run-jobs step, by node."""
    out = {}
    for call in calls:
        job = call.body
        out[job["spec"]["template"]["spec"]["nodeName"]] = job
    return out
