"""The emulated kubelet of one sandbox node (test emulation, never a product component).

Runs in the control-plane process. It watches the pods bound to its node and, like
kubelet: creates the pod sandbox through the node's runtime (CNI ADD with the real
plugins, see :mod:`harness.emulation.runtime`), pulls (resolves) images, runs init
containers one after another and then the main containers, restarts them with back-off,
reports pod status and kubelet Events (``FailedCreatePodSandBox`` with the runtime's
exact wording), posts the node's Ready condition from the runtime's network status, and
on deletion stops containers (SIGTERM, grace period, SIGKILL) and tears the sandbox down
(CNI DEL) before finalizing the pod.

After a node reboot every process and sandbox is gone while the Pod objects remain; the
kubelet then stops the old sandboxes and creates new ones, which is exactly when
``loadFlannelSubnetEnv failed`` appears on a node whose flannel agent is gone.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import secrets
import sys
import time
from pathlib import Path
from typing import Any

from harness.emulation.apiserver.audit import acting_as
from harness.emulation.apiserver.audit import kubelet as kubelet_identity
from harness.emulation.apiserver.podlogs import LogUnavailable
from harness.emulation.apiserver.store import Store
from harness.emulation.kubelet.podspec import log_path
from harness.emulation.kubelet.podworker import PodWorker
from harness.providers.sandbox.node import SandboxNode
from harness.realflannel.resolve import requested_impl

log = logging.getLogger(__name__)
STATUS_PERIOD = 1.0
STATUS_RECHECK = 10.0  # kubelet's nodeStatusUpdateFrequency: a full check this often
CONF_DIR = "/etc/cni/net.d"
BIN_DIR = "/opt/cni/bin"
SOURCE_ROOT = str(Path(__file__).resolve().parents[3])
RESYNC_PERIOD = 1.0


class Kubelet:
    def __init__(self, store: Store, node: SandboxNode, runtime: str) -> None:
        self.store = store
        self.node = node
        self.runtime = runtime
        self.boot = node.record.boot
        self.workers: dict[str, PodWorker] = {}
        self.wake = asyncio.Event()
        self.status_wake = asyncio.Event()  # a container changed: re-check the network
        self._ready: tuple[bool, str, str] | None = None
        self.last_heartbeat = time.monotonic()  # last status the node answered
        self._status: dict[str, Any] | None = None  # the runtime's, and its inputs
        self._status_inputs: tuple[Any, ...] | None = None
        self._status_at = 0.0
        self.token_key = secrets.token_bytes(
            32
        )  # signs the pods' service-account tokens
        # real | emulated | auto: how Flannel images run (harness.realflannel.resolve)
        self.flannel_impl = requested_impl()

    @property
    def name(self) -> str:
        return self.node.name

    async def runtime_call(self, args: list[str]) -> dict[str, Any]:
        """Run the runtime emulation inside the node; its one JSON object."""
        # stdlib only: skip site-packages (-S) and find the package by path; this saves
        # most of the interpreter start-up on every sandbox call
        argv = [sys.executable, "-S", "-m", "harness.emulation.runtime", *args]
        if args[0] in ("add", "del", "status"):
            argv += ["--runtime", self.runtime]
        result = await asyncio.to_thread(
            self.node.exec,
            argv,
            check=False,
            timeout=60,
            env={"PYTHONPATH": SOURCE_ROOT},
        )
        if result.rc != 0:
            raise RuntimeError(
                f"runtime {args[0]} failed on {self.name}: {result.stderr.strip()}"
            )
        data: dict[str, Any] = json.loads(result.stdout)
        return data

    async def run(self) -> None:
        self.store.register_kubelet(self.name)
        self.store.pod_logs.register(self.name, self)
        with acting_as(
            kubelet_identity(self.name)
        ):  # its writes, as the audit sees them
            await asyncio.gather(self._sync_loop(), self._status_loop())

    def read_container_log(
        self, pod: dict[str, Any], container: str, attempt: int
    ) -> bytes:
        """A container's log file (``/var/log/pods/...``) read through the node's root,
        for ``pods/log`` (:mod:`harness.emulation.apiserver.podlogs`); a powered-off
        node cannot be dialled."""
        holder = self.node.record.holder
        if self.node.record.stopped or holder is None or not holder.alive():
            raise LogUnavailable(
                f"dial tcp {self.node.address}:10250: connect: no route to host"
            )
        path = log_path(pod, container, attempt)
        try:
            return Path(f"/proc/{holder.pid}/root{path}").read_bytes()
        except OSError as exc:
            raise LogUnavailable(f"open {path}: {exc.strerror}") from exc

    async def _sync_loop(self) -> None:
        while True:
            try:
                await asyncio.wait_for(self.wake.wait(), RESYNC_PERIOD)
            except TimeoutError:
                pass
            self.wake.clear()
            try:
                await self.sync()
            except Exception:
                log.exception("kubelet %s: sync failed", self.name)

    def status_posted_lost(self) -> None:
        """The node lifecycle controller overwrote our conditions: post them again."""
        self._ready = None

    async def sync(self) -> None:
        if self.node.record.stopped:  # powered off: this kubelet is not running
            return
        if self.node.record.boot != self.boot:
            await self._rebooted()
        pods = self.store.list("pods", field_selector=f"spec.nodeName={self.name}")
        seen = set()
        for pod in pods:
            uid = pod["metadata"]["uid"]
            seen.add(uid)
            worker = self.workers.get(uid)
            deleting = bool(pod["metadata"].get("deletionTimestamp"))
            if worker is None and deleting:
                self.store.finalize_pod(
                    pod["metadata"]["name"], pod["metadata"]["namespace"]
                )
            elif worker is None:
                self.workers[uid] = worker = PodWorker(self, pod)
                worker.start()
            elif deleting and not worker.terminating:
                grace = pod["metadata"].get("deletionGracePeriodSeconds", 30)
                worker.terminate(float(grace))
        for uid in [u for u in self.workers if u not in seen]:
            self.workers.pop(uid).abandon()

    async def _rebooted(self) -> None:
        log.info(
            "kubelet %s: node rebooted (boot %d)", self.name, self.node.record.boot
        )
        self.boot = self.node.record.boot
        old, self.workers = self.workers, {}
        for worker in old.values():
            worker.abandon()
        for worker in old.values():
            if worker.sandbox_id:  # StopPodSandbox of the dead sandbox: CNI DEL
                await worker.teardown_sandbox(record_failure=False)
        self._ready = None

    async def _status_loop(self) -> None:
        while True:
            try:
                await self.post_status()
            except Exception as exc:  # node rebooting: try again next period
                log.debug("kubelet %s: status: %s", self.name, exc)
            try:
                await asyncio.wait_for(self.status_wake.wait(), STATUS_PERIOD)
            except TimeoutError:
                pass
            self.status_wake.clear()

    def _runtime_inputs(self) -> tuple[Any, ...] | None:
        """What the runtime's network status is a function of: the entries of the
        node's CNI conf dir and its plugin binaries (and the boot), read through the
        node's root without a process; None when unreadable."""
        holder = self.node.record.holder
        if holder is None:
            return None
        root = f"/proc/{holder.pid}/root"
        try:
            with os.scandir(root + CONF_DIR) as entries:
                confs = sorted(
                    (e.name, e.stat(follow_symlinks=False).st_mtime_ns) for e in entries
                )
            bins = sorted(os.listdir(root + BIN_DIR))
        except FileNotFoundError:
            confs, bins = [], []
        except OSError:
            return None
        return (self.node.record.boot, tuple(confs), tuple(bins))

    async def _network_status(self) -> dict[str, Any]:
        """The runtime's status, asked again only when its inputs changed or
        STATUS_RECHECK passed (a process per node per second costs a core on a
        100-node cluster)."""
        inputs = self._runtime_inputs()
        fresh = time.monotonic() - self._status_at < STATUS_RECHECK
        if inputs is not None and inputs == self._status_inputs and fresh:
            assert self._status is not None
            return self._status
        self._status = await self.runtime_call(["status"])
        self._status_inputs, self._status_at = inputs, time.monotonic()
        return self._status

    async def post_status(self) -> None:
        if self.node.record.stopped:
            return
        status = await self._network_status()
        self.last_heartbeat = time.monotonic()
        ready = (
            bool(status["ready"]),
            status.get("reason", ""),
            status.get("message", ""),
        )
        if ready == self._ready:
            return
        self._ready = ready
        if ready[0]:
            cond = {
                "type": "Ready",
                "status": "True",
                "reason": "KubeletReady",
                "message": "kubelet is posting ready status",
            }
        else:
            cond = {
                "type": "Ready",
                "status": "False",
                "reason": "KubeletNotReady",
                "message": ready[2],
            }
        from harness.emulation.controlplane.nodes import condition

        self.store.patch(
            "nodes",
            self.name,
            {"status": {"conditions": [condition(**cond)]}},
            "strategic",
            subresource="status",
        )
