"""Test doubles for the kind provider: a fake docker SDK client that records every call
and speaks docker's real exec stream format over a socketpair, and a fake world of
``kind`` and ``kubectl`` behind one recording runner (pytest-kind's own subprocess
calls are routed into it too), so tests assert exact call sequences.
"""

from __future__ import annotations

import io
import json
import socket
import struct
import subprocess
import tarfile
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import docker.errors
import yaml

from cniscrub.node.command import CommandResult

ExecHandler = Callable[[str, list[str], bytes], tuple[int, bytes, bytes]]
KUBECONFIG = """apiVersion: v1
kind: Config
clusters: [{name: k, cluster: {server: "https://127.0.0.1:1"}}]
users: [{name: k, user: {token: t}}]
contexts: [{name: k, context: {cluster: k, user: k}}]
current-context: k
"""


def tar_members(data: bytes) -> list[tuple[str, int, bytes]]:
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        return [
            (m.name, m.mode, tar.extractfile(m).read())  # type: ignore[union-attr]
            for m in tar.getmembers()
        ]


class FakeContainer:
    def __init__(self, client: FakeDocker, name: str, labels: dict[str, str], ip: str):
        self.client, self.name, self.labels = client, name, labels
        self.status = "running"
        self.boot = 1
        self.files: dict[str, bytes] = {}
        self.attrs: dict[str, Any] = {
            "HostConfig": {"Tmpfs": {"/run": "", "/tmp": ""}},
            "Mounts": [{"Type": "volume", "Destination": "/var"}],
            "NetworkSettings": {"Networks": {"kind": {"IPAddress": ip}}},
        }

    def _call(self, *what: Any) -> None:
        self.client.calls.append(what)

    def stop(self, timeout: int = 10) -> None:
        self._call("stop", self.name, timeout)
        self.status = "exited"

    def start(self) -> None:
        self._call("start", self.name)
        self.status, self.boot = "running", self.boot + 1

    def restart(self, timeout: int = 10) -> None:
        self._call("restart", self.name, timeout)
        self.boot += 1

    def put_archive(self, path: str, data: bytes) -> bool:
        members = tar_members(data)
        self._call("put_archive", self.name, path, [(n, oct(m)) for n, m, _ in members])
        for name, _, content in members:
            self.files[f"{path.rstrip('/')}/{name}"] = content
        return True

    def get_archive(self, path: str) -> tuple[list[bytes], dict[str, Any]]:
        self._call("get_archive", self.name, path)
        if path not in self.files:
            raise docker.errors.NotFound(f"Could not find the file {path}")
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w") as tar:
            info = tarfile.TarInfo(path.rsplit("/", 1)[-1])
            info.size = len(self.files[path])
            tar.addfile(info, io.BytesIO(self.files[path]))
        return [buf.getvalue()], {}

    def remove(self, force: bool = False, v: bool = False) -> None:
        self._call("remove", self.name)
        self.client.containers.by_name.pop(self.name, None)


class FakeContainers:
    def __init__(self, client: FakeDocker) -> None:
        self.client = client
        self.by_name: dict[str, FakeContainer] = {}

    def get(self, name: str) -> FakeContainer:
        if name not in self.by_name:
            raise docker.errors.NotFound(f"No such container: {name}")
        return self.by_name[name]

    def list(
        self, all: bool = False, filters: dict[str, str] | None = None
    ) -> list[Any]:
        key, _, value = (filters or {}).get("label", "=").partition("=")
        return [
            c for c in self.by_name.values() if not key or c.labels.get(key) == value
        ]


class FakeAPI:
    """The low-level calls ContainerOps makes, answered like dockerd does."""

    def __init__(self, client: FakeDocker) -> None:
        self.client = client
        self.execs: dict[str, tuple[str, list[str], int | None]] = {}
        self.stdin: dict[str, bool] = {}

    def exec_create(self, container: str, cmd: list[str], **kw: Any) -> dict[str, str]:
        self.client.calls.append(
            ("exec_create", container, list(cmd), kw.get("environment"))
        )
        target = self.client.containers.get(container)
        if target.status != "running":
            raise docker.errors.APIError(
                "409",
                response=_Response(409),
                explanation=f"Container {container} is not running",
            )
        exec_id = f"exec{len(self.execs)}"
        self.execs[exec_id] = (container, list(cmd), None)
        self.stdin[exec_id] = bool(kw.get("stdin"))
        return {"Id": exec_id}

    def exec_start(self, exec_id: str, socket: bool = False) -> Any:
        ours, theirs = _socketpair()
        container, cmd, _ = self.execs[exec_id]
        argv = cmd[3:] if cmd[0] == "timeout" else cmd

        def serve() -> None:
            stdin = b""
            while self.stdin[exec_id] and (chunk := theirs.recv(65536)):
                stdin += chunk
            rc, out, err = self.client.on_exec(container, argv, stdin)
            for stream, data in ((1, out), (2, err)):
                if data:
                    theirs.sendall(struct.pack(">BxxxL", stream, len(data)) + data)
            self.execs[exec_id] = (container, cmd, rc)
            theirs.close()

        threading.Thread(target=serve, daemon=True).start()
        return ours

    def exec_inspect(self, exec_id: str) -> dict[str, Any]:
        rc = self.execs[exec_id][2]
        return {"Running": rc is None, "ExitCode": rc}


def _socketpair() -> tuple[socket.socket, socket.socket]:
    ours, theirs = socket.socketpair()
    return ours, theirs


class _Response:
    def __init__(self, status: int) -> None:
        self.status_code = status
        self.reason = "Conflict"


class FakeDocker:
    def __init__(self, on_exec: ExecHandler | None = None) -> None:
        self.calls: list[tuple[Any, ...]] = []
        self.containers = FakeContainers(self)
        self.api = FakeAPI(self)
        self.on_exec: ExecHandler = on_exec or (lambda c, argv, stdin: (0, b"", b""))

    def add(
        self, name: str, labels: dict[str, str] | None = None, ip: str = ""
    ) -> FakeContainer:
        container = FakeContainer(self, name, labels or {}, ip)
        self.containers.by_name[name] = container
        return container

    def ping(self) -> bool:
        return True


class KindWorld:
    """``kind`` and ``kubectl`` as a recording runner; kind clusters become containers
    of the fake docker client, named and labelled as kind does."""

    def __init__(self, docker_client: FakeDocker) -> None:
        self.docker = docker_client
        self.calls: list[list[str]] = []
        self.clusters: set[str] = set()
        self.jobs: dict[str, dict[str, Any]] = {}
        self.job_exit = 0
        self.job_log = '{"exit_code": 0}\n'

    def __call__(
        self,
        argv: Sequence[str],
        *,
        input: str | None = None,
        timeout: float = 60.0,
        env: Any = None,
    ) -> CommandResult:
        argv = [str(a) for a in argv]
        self.calls.append(argv)
        tool = Path(argv[0]).name
        out = (
            self._kind(argv[1:])
            if tool.startswith("kind")
            else self._kubectl(argv[3:], input)
        )
        return CommandResult(tuple(argv), 0, out.encode(), b"")

    def _kind(self, args: list[str]) -> str:
        flags = dict(
            a[2:].split("=", 1) for a in args if a.startswith("--") and "=" in a
        )
        if args[:2] == ["get", "clusters"]:
            return "".join(f"{c}\n" for c in sorted(self.clusters))
        if args[:2] == ["create", "cluster"]:
            config = yaml.safe_load(Path(args[args.index("--config") + 1]).read_text())
            self._create(flags["name"], config)
            Path(flags["kubeconfig"]).write_text(KUBECONFIG)
        if args[:2] == ["delete", "cluster"]:
            self.clusters.discard(flags["name"])
            for c in self.docker.containers.list(
                filters={"label": f"io.x-k8s.kind.cluster={flags['name']}"}
            ):
                self.docker.containers.by_name.pop(c.name)
        if args[:2] == ["get", "kubeconfig"]:
            return KUBECONFIG
        return ""

    def _create(self, name: str, config: dict[str, Any]) -> None:
        self.clusters.add(name)
        workers = 0
        for index, node in enumerate(config["nodes"]):
            role = node["role"]
            if role == "worker":
                workers += 1
            suffix = (
                "control-plane"
                if role == "control-plane"
                else f"worker{'' if workers == 1 else workers}"
            )
            self.docker.add(
                f"{name}-{suffix}",
                {"io.x-k8s.kind.cluster": name, "io.x-k8s.kind.role": role},
                ip=f"172.18.0.{index + 2}",
            )

    def _kubectl(self, args: list[str], input: str | None) -> str:
        if args[:2] == ["get", "nodes"]:
            return json.dumps(
                {"items": [self._node(c) for c in self.docker.containers.list()]}
            )
        if args[:3] == ["apply", "-f", "-"]:
            job = json.loads(input or "{}")
            self.jobs[job["metadata"]["name"]] = job
        if "get" in args and "pods" in args:
            name = args[args.index("-l") + 1].split("=", 1)[1]
            pod = {
                "metadata": {"name": f"{name}-abcde"},
                "status": {
                    "containerStatuses": [
                        {
                            "name": "cniscrub",
                            "state": {"terminated": {"exitCode": self.job_exit}},
                        }
                    ]
                },
            }
            return json.dumps({"items": [pod] if name in self.jobs else []})
        if "logs" in args:
            return self.job_log
        return ""

    @staticmethod
    def _node(container: FakeContainer) -> dict[str, Any]:
        ready = "True" if container.status == "running" else "Unknown"
        cond = {
            "type": "Ready",
            "status": ready,
            "lastHeartbeatTime": f"boot-{container.boot}",
        }
        return {"metadata": {"name": container.name}, "status": {"conditions": [cond]}}


class PytestKindSubprocess:
    """Stands in for the ``subprocess`` module inside ``pytest_kind.cluster``."""

    CalledProcessError = subprocess.CalledProcessError

    def __init__(self, world: KindWorld) -> None:
        self.world = world

    def check_output(self, argv: list[str], **kw: Any) -> str:
        return self.world(argv).stdout

    def run(self, argv: list[str], check: bool = False, **kw: Any) -> Any:
        result = self.world(argv)
        return subprocess.CompletedProcess(argv, result.rc)
