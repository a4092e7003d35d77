"""Start and stop a Docker engine inside a network namespace the harness creates.

The engine is Debian's ``dockerd`` (it starts its own ``containerd``), entered into a
fresh network namespace with ``nsenter --net=/run/netns/NAME`` (``ip netns exec``
would remount /sys and hide the cgroup mounts; dockerd then refuses to start). It gets
its own data-root, exec-root and socket under a state directory, no bridge and no
iptables rules (containers run with ``network_mode="none"``), and a cgroup parent of
its own. Ownership is recorded three ways, so a crashed run is removed completely by
:func:`harness.docker_lab.teardown.collect`: ``engine.json`` in the state directory,
``CNISCRUB_LAB_ENGINE=<id>`` in the environment of dockerd, containerd and every shim
(inherited), and the cgroup parent holding every container process.

>>> with LabEngine() as engine:                       # doctest: +SKIP
...     engine.client().containers.run("img", ["true"], network_mode="none")
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from harness.providers.sandbox.state import ProcRef, state_home

if TYPE_CHECKING:
    import docker

OWNER = "cniscrub-lab-engine"
MARKER_ENV = "CNISCRUB_LAB_ENGINE"
#: the label every container and image the harness makes in the engine carries
OWNER_LABEL = "io.cniscrub.lab-engine"
START_TIMEOUT = 60.0
_TOOLS = {
    "dockerd": "docker.io",
    "containerd": "containerd",
    "runc": "runc",
    "nsenter": "util-linux",
    "ip": "iproute2",
}


class EngineError(RuntimeError):
    """The lab engine could not be started, reached or removed."""


@dataclass
class EngineRecord:
    """What ``engine.json`` holds: enough to remove the engine after a crash."""

    id: str
    netns: str
    cgroup_parent: str
    created: float
    owner: str = OWNER
    dockerd: ProcRef | None = None
    lifetime_owner: ProcRef | None = None

    @classmethod
    def load(cls, path: Path) -> EngineRecord:
        data = json.loads(path.read_text())
        if data.get("owner") != OWNER:
            raise EngineError(f"{path}: not a lab engine record (owner marker missing)")
        for key in ("dockerd", "lifetime_owner"):
            data[key] = ProcRef(**data[key]) if data.get(key) else None
        return cls(**data)

    def save(self, path: Path) -> None:
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(self), indent=1))
        os.replace(tmp, path)


def engines_home() -> Path:
    """Where engine state directories live (beside the sandbox clusters)."""
    return state_home() / "engines"


def engine_unavailable() -> str | None:
    """Why no lab engine can be started on this machine (with the fix), or None."""
    if os.geteuid() != 0:
        return "the lab Docker engine needs root (network namespaces, dockerd)"
    for tool, package in _TOOLS.items():
        if shutil.which(tool) is None:
            return f"`{tool}` is not installed (apt-get install {package})"
    try:
        import docker  # noqa: F401
    except ImportError:
        return "the docker SDK is not installed (pip install 'cniscrub[kind]')"
    return None


class LabEngine:
    """One dockerd of our own; ``start()`` it, use :meth:`client`, always ``stop()``."""

    def __init__(self, home: Path | None = None, lifetime_owner: int | None = None):
        self.id = uuid.uuid4().hex[:12]
        self.dir = (home or engines_home()) / self.id
        self.record = EngineRecord(
            id=self.id,
            netns=f"cniscrub-dk-{self.id}",
            cgroup_parent=f"cniscrub-dk-{self.id}",
            created=time.time(),
            lifetime_owner=ProcRef.of(lifetime_owner or os.getpid()),
        )
        self._client: docker.DockerClient | None = None
        self._proc: subprocess.Popen[bytes] | None = None

    def __repr__(self) -> str:
        return f"<lab docker engine {self.id} netns={self.record.netns}>"

    @property
    def socket(self) -> Path:
        return self.dir / "docker.sock"

    @property
    def url(self) -> str:
        """What ``DOCKER_HOST`` would be for this engine."""
        return f"unix://{self.socket}"

    @property
    def log_path(self) -> Path:
        return self.dir / "dockerd.log"

    def dockerd_argv(self) -> list[str]:
        return [
            "nsenter",
            f"--net=/run/netns/{self.record.netns}",
            "--",
            "dockerd",
            f"--data-root={self.dir / 'data'}",
            f"--exec-root={self.dir / 'exec'}",
            f"--host={self.url}",
            f"--pidfile={self.dir / 'dockerd.pid'}",
            f"--cgroup-parent=/{self.record.cgroup_parent}",
            "--bridge=none",
            "--iptables=false",
            "--ip6tables=false",
            "--log-level=warn",
        ]

    def start(self, timeout: float = START_TIMEOUT) -> docker.DockerClient:
        """Create the namespace, start dockerd in it, wait until it answers."""
        reason = engine_unavailable()
        if reason:
            raise EngineError(reason)
        self.dir.mkdir(parents=True)
        self.record.save(self.dir / "engine.json")
        try:
            _run(["ip", "netns", "add", self.record.netns])
            _run(["ip", "-n", self.record.netns, "link", "set", "lo", "up"])
            with open(self.log_path, "ab") as log:
                proc = subprocess.Popen(
                    self.dockerd_argv(),
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=log,
                    env={**os.environ, MARKER_ENV: self.id},
                    start_new_session=True,
                )
            self._proc = proc
            self.record.dockerd = ProcRef.of(proc.pid)
            self.record.save(self.dir / "engine.json")
            return self._wait_ready(proc, timeout)
        except BaseException:
            self.stop()
            raise

    def _wait_ready(self, proc: subprocess.Popen[bytes], timeout: float) -> Any:
        import docker

        deadline = time.monotonic() + timeout
        last: Exception | None = None
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise EngineError(
                    f"dockerd exited with {proc.returncode} while starting: {self.log_tail()}"
                )
            try:
                client = docker.DockerClient(base_url=self.url, timeout=30)
                client.ping()
                self._client = client
                return client
            except Exception as exc:  # not listening yet
                last = exc
                time.sleep(0.2)
        raise EngineError(
            f"dockerd did not answer on {self.url} within {timeout:.0f}s "
            f"(last error: {last}): {self.log_tail()}"
        )

    def client(self) -> docker.DockerClient:
        if self._client is None:
            raise EngineError(f"{self!r} is not started")
        return self._client

    def log_tail(self, lines: int = 8) -> str:
        try:
            text = self.log_path.read_text(errors="replace").strip().splitlines()
        except OSError:
            return "(no dockerd log)"
        return " | ".join(text[-lines:]) or "(empty dockerd log)"

    def stop(self) -> None:
        """Remove every container and image, stop the engine, delete its namespace,
        mounts, cgroups and state directory. Idempotent."""
        from harness.docker_lab.teardown import remove_engine

        client, self._client = self._client, None
        remove_engine(self.dir, self.record, client)
        if self._proc is not None:
            self._proc.wait(timeout=5)  # reap our dockerd child (gone by now)

    def __enter__(self) -> LabEngine:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def _run(argv: list[str]) -> None:
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    if proc.returncode != 0:
        raise EngineError(f"{' '.join(argv)} failed: {proc.stderr.strip()}")
