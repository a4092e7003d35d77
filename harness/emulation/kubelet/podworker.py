"""One pod's lifecycle on an emulated kubelet (test emulation).

sandbox (non-hostNetwork: runtime ``add`` = CNI ADD, retried with back-off, each failure
a ``FailedCreatePodSandBox`` Event) → volumes → init containers in order → main
containers, restarted with back-off under ``restartPolicy: Always`` → on deletion:
SIGTERM, grace, SIGKILL, runtime ``del`` (CNI DEL), finalize.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import signal
from typing import TYPE_CHECKING, Any

from harness.emulation.apiserver.errors import ApiError
from harness.emulation.apiserver.serviceaccounts import issue_token
from harness.emulation.images import resolve
from harness.emulation.kubelet import podstatus
from harness.emulation.kubelet.containers import ContainerProcess
from harness.emulation.kubelet.podspec import (
    container_argv,
    container_mounts,
    hostpath_standin,
    log_path,
    node_owned,
    projected_files,
    resolve_env,
    volume_sources,
)
from harness.realflannel.resolve import choose

if TYPE_CHECKING:
    from harness.emulation.kubelet.kubelet import Kubelet

log = logging.getLogger(__name__)
BACKOFF = (0.5, 1.0, 2.0, 4.0, 8.0, 10.0)


def backoff(attempt: int) -> float:
    return BACKOFF[min(attempt, len(BACKOFF) - 1)]


class PodWorker:
    def __init__(self, kubelet: Kubelet, pod: dict[str, Any]) -> None:
        self.k = kubelet
        self.pod = pod
        self.meta = pod["metadata"]
        self.spec = pod["spec"]
        self.host_network = bool(self.spec.get("hostNetwork"))
        self.sandbox_id: str | None = None
        self.netns: str | None = None
        self.pod_ips: list[str] = []
        self.procs: dict[str, ContainerProcess] = {}
        # volume -> node dir replacing a missing host path (podspec.hostpath_standin)
        self.standins: dict[str, str] = {}
        self.status = podstatus.PodStatus(pod, kubelet.node.address)
        self.terminating = False
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"pod {self.meta['name']}")

    def abandon(self) -> None:
        """Forget the pod without cleanup (node rebooted: everything is already gone)."""
        if self._task:
            self._task.cancel()
        for proc in self.procs.values():
            proc.signal(signal.SIGKILL)

    def terminate(self, grace: float) -> None:
        self.terminating = True
        if self._task:
            self._task.cancel()
        self._task = asyncio.create_task(self._terminate(grace))

    # -- lifecycle ---------------------------------------------------------------
    async def _run(self) -> None:
        try:
            if not self.host_network:
                await self._create_sandbox()
            else:
                self.pod_ips = [self.k.node.address]
            await self._prepare_volumes()
            for c in self.spec.get("initContainers") or []:
                if not await self._run_to_completion(c):
                    return
            self.status.initialized()
            self._post()
            await asyncio.gather(*(self._supervise(c) for c in self.spec["containers"]))
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("pod %s/%s failed", self.meta["namespace"], self.meta["name"])

    async def _create_sandbox(self) -> None:
        attempt = 0
        while True:
            sid = secrets.token_hex(32)
            self.sandbox_id = sid
            res = await self.k.runtime_call(
                [
                    "add",
                    "--sandbox-id",
                    sid,
                    "--pod-name",
                    self.meta["name"],
                    "--pod-namespace",
                    self.meta["namespace"],
                    "--pod-uid",
                    self.meta["uid"],
                ]
            )
            if res.get("ok"):
                self.netns = res["netns"]
                self.pod_ips = [ip.split("/")[0] for ip in res.get("ips", [])]
                return
            self.sandbox_id = None if res.get("netns_removed", True) else sid
            self.status.waiting_all("ContainerCreating", "")
            self._post()
            self._event(res.get("reason", "FailedCreatePodSandBox"), res["message"])
            await asyncio.sleep(backoff(attempt))
            attempt += 1

    async def _prepare_volumes(self) -> None:
        """Set up every volume; a missing ConfigMap is a ``FailedMount`` event and a
        retry with back-off, as kubelet's volume manager does."""
        attempt = 0
        while True:
            try:
                await self._set_up_volumes()
                return
            except ApiError as exc:
                if exc.code != 404:
                    raise
                self._event("FailedMount", f"MountVolume.SetUp failed: {exc}")
            await asyncio.sleep(backoff(attempt))
            attempt += 1

    async def _set_up_volumes(self) -> None:
        node = self.k.node
        for name, src in volume_sources(self.pod).items():
            if src["type"] == "projected":
                await self._write_projected(src)
            elif src["type"] == "configMap":
                cm = self.k.store.get(
                    "configmaps", src["configMap"], self.meta["namespace"]
                )
                for key, value in (cm.get("data") or {}).items():
                    await asyncio.to_thread(
                        node.write_file, f"{src['path']}/{key}", value
                    )
            elif src["type"] == "FileOrCreate":
                await asyncio.to_thread(
                    node.exec,
                    [
                        "sh",
                        "-c",
                        'mkdir -p "$(dirname "$1")"; [ -e "$1" ] || : > "$1"',
                        "sh",
                        src["path"],
                    ],
                )
            elif src["type"] != "emptyDir" and not node_owned(src["path"]):
                await self._host_tree_path(name, src["path"])
            else:  # DirectoryOrCreate, emptyDir and untyped paths (the runtime creates them)
                await asyncio.to_thread(
                    node.exec,
                    ["sh", "-c", '[ -e "$1" ] || mkdir -p "$1"', "sh", src["path"]],
                )
            log.debug("volume %s ready at %s", name, src["path"])

    async def _write_projected(self, src: dict[str, Any]) -> None:
        """A projected volume's files (the service-account token, ``ca.crt``, the
        namespace), written as a kubelet does, readable by the container only."""
        wanted = [s["configMap"]["name"] for s in src["sources"] if "configMap" in s]
        ns = self.meta["namespace"]
        configmaps = {n: self.k.store.get("configmaps", n, ns) for n in wanted}
        token = issue_token(self.pod, self.k.token_key)
        files = projected_files(self.pod, src["sources"], token, configmaps)
        for name, content in files.items():
            await asyncio.to_thread(
                self.k.node.write_file, f"{src['path']}/{name}", content, 0o644
            )

    async def _host_tree_path(self, volume: str, path: str) -> None:
        """A hostPath outside the node's own trees is the host's: used when present,
        else an empty stand-in directory of the pod (never created on the host)."""
        found = await asyncio.to_thread(
            self.k.node.exec, ["test", "-e", path], check=False
        )
        if found.ok:
            return
        standin = hostpath_standin(self.pod, volume)
        await asyncio.to_thread(self.k.node.exec, ["mkdir", "-p", standin])
        self.standins[volume] = standin
        log.info(
            "hostPath %s is missing on this host: empty stand-in %s", path, standin
        )

    async def _start(
        self, c: dict[str, Any], init: bool, attempt: int
    ) -> ContainerProcess | None:
        image = c["image"]
        if resolve(image) is None:
            msg = (
                f'Failed to pull image "{image}": failed to pull and unpack image "{image}": '
                "not found (the sandbox has no emulation for this image)"
            )
            self.status.waiting(
                c["name"], "ErrImagePull" if attempt == 0 else "ImagePullBackOff", msg
            )
            self._post()
            self._event("Failed", msg)
            return None
        ctx = {
            "image": image,
            "node_name": self.k.name,
            "pod_name": self.meta["name"],
            "pod_namespace": self.meta["namespace"],
            "pod_uid": self.meta["uid"],
            "container_name": c["name"],
            "init": init,
            "env": resolve_env(
                {
                    **self.pod,
                    "status": {
                        "podIP": (self.pod_ips or [""])[0],
                        "hostIP": self.k.node.address,
                    },
                },
                c.get("env"),
            ),
            "log_path": log_path(self.pod, c["name"], attempt),
        }
        choice = choose(image, self.k.flannel_impl)
        ctx["image_files"] = choice.files  # a real image's programs (real Flannel)
        spec = {
            "argv": container_argv(c),
            "context": ctx,
            "mounts": container_mounts(self.pod, c, self.standins),
            "workingDir": c.get("workingDir"),
            "note": (
                f"cniscrub: {image} runs emulated: {choice.reason}"
                if self.k.flannel_impl == "real"
                and choice.impl == "emulated"
                and choice.program is not None
                else ""
            ),
        }
        proc = await ContainerProcess.start(self.k.node, json.dumps(spec), self.netns)
        self.procs[c["name"]] = proc
        return proc

    async def _run_to_completion(self, c: dict[str, Any]) -> bool:
        """Run an init container until it succeeds (True); False when it failed and
        the restart policy is Never (the pod failed)."""
        attempt = 0
        while True:
            proc = await self._start(c, True, attempt)
            rc = await proc.wait() if proc else -1
            if rc == 0:
                self.status.init_done(c["name"])
                self.k.status_wake.set()  # e.g. an install-cni container wrote a conflist
                return True
            if proc:
                self.status.init_failed(c["name"], rc, attempt)
                self._post()
                if self.spec.get("restartPolicy") == "Never":  # the pod failed
                    return False
            await asyncio.sleep(backoff(attempt))
            attempt += 1

    async def _supervise(self, c: dict[str, Any]) -> None:
        attempt = 0
        while True:
            proc = await self._start(c, False, attempt)
            if proc is not None:
                self.status.running(c["name"], self.pod_ips, attempt)
                self._post()
                rc = await proc.wait()
                self.status.terminated(c["name"], rc, attempt)
                self._post()
                if self.spec.get("restartPolicy", "Always") == "Never" or (
                    rc == 0 and self.spec.get("restartPolicy") == "OnFailure"
                ):
                    return
            await asyncio.sleep(backoff(attempt))
            attempt += 1

    async def _terminate(self, grace: float) -> None:
        await asyncio.gather(*(p.stop(grace) for p in self.procs.values()))
        if self.sandbox_id:
            attempt = 0
            while not await self.teardown_sandbox(record_failure=True):
                await asyncio.sleep(backoff(attempt))
                attempt += 1
        self.k.store.finalize_pod(self.meta["name"], self.meta["namespace"])
        self.k.workers.pop(self.meta["uid"], None)

    async def teardown_sandbox(self, record_failure: bool) -> bool:
        """StopPodSandbox: CNI DEL through the runtime; True when the sandbox is gone."""
        assert self.sandbox_id is not None
        try:
            res = await self.k.runtime_call(["del", "--sandbox-id", self.sandbox_id])
        except RuntimeError as exc:
            log.warning("%s", exc)
            return False
        if res.get("ok"):
            self.sandbox_id = None
            return True
        if record_failure:
            self._event(
                "FailedKillPod", res.get("message", "failed to destroy network")
            )
        return False

    # -- reporting ----------------------------------------------------------------
    def _post(self) -> None:
        try:
            self.k.store.patch(
                "pods",
                self.meta["name"],
                {"status": self.status.render()},
                "merge",
                self.meta["namespace"],
                subresource="status",
            )
        except Exception as exc:  # the pod may be gone already
            log.debug("status of %s: %s", self.meta["name"], exc)

    def _event(self, reason: str, message: str) -> None:
        try:
            self.k.store.record_event(
                self.pod, reason, message, "Warning", "kubelet", self.k.name
            )
        except Exception as exc:
            log.debug("event for %s: %s", self.meta["name"], exc)
