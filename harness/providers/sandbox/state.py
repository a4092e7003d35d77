"""On-disk state of sandbox clusters: where it lives, the cluster record, ownership.

Layout under the state root (``$CNISCRUB_LAB_HOME``, default ``/run/cniscrub-lab``; it
must not lie under /etc, /opt or /var, which the nodes overlay)::

    images/<variant>/{etc,opt,var}            node image layer, built once, shared
    clusters/<name>/cluster.json              the record; its "owner" is the marker
    clusters/<name>/nodes/<node>/{upper,work}/{etc,opt,var}
    clusters/<name>/lock                      flock for up/down/reboot

Every process the provider starts carries ``CNISCRUB_LAB_CLUSTER=<cluster id>`` and
``CNISCRUB_LAB_CLUSTER_HOME=<state root>`` in its environment; ``gc`` finds leftovers by
that marker and by ``cluster.json``, never by a broad name match, and only among the
processes marked with its own state root (other roots on the machine are other labs).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import tempfile
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

from harness.providers.base import NodeNotRunning, ProviderError

OWNER = "cniscrub-lab"
MARKER_ENV = "CNISCRUB_LAB_CLUSTER"
MARKER_HOME_ENV = "CNISCRUB_LAB_CLUSTER_HOME"  # the state root holding that cluster
HOME_ENV = "CNISCRUB_LAB_HOME"
DEFAULT_HOME = Path("/run/cniscrub-lab")
_FORBIDDEN_PARENTS = (Path("/etc"), Path("/opt"), Path("/var"))


class SandboxError(ProviderError):
    """A sandbox cluster could not be built, found or changed."""


class NodeStopped(SandboxError, NodeNotRunning):
    """The sandbox node is powered off (``stop``); ``start`` it first."""


def state_home() -> Path:
    home = Path(os.environ.get(HOME_ENV) or DEFAULT_HOME).resolve()
    for forbidden in _FORBIDDEN_PARENTS:
        if home == forbidden or forbidden in home.parents:
            raise SandboxError(
                f"{HOME_ENV}={home} lies under {forbidden}, which sandbox nodes overlay; "
                "choose a directory outside /etc, /opt and /var"
            )
    return home


@dataclass
class ProcRef:
    """A process identified by pid *and* start time, so a reused pid never matches."""

    pid: int
    start: int

    @classmethod
    def of(cls, pid: int) -> ProcRef:
        return cls(pid, proc_start_time(pid))

    def alive(self) -> bool:
        try:
            return proc_start_time(self.pid) == self.start
        except (FileNotFoundError, ProcessLookupError, ValueError):
            return False


def proc_start_time(pid: int) -> int:
    """Field 22 of /proc/PID/stat (start time in clock ticks since boot)."""
    raw = Path(f"/proc/{pid}/stat").read_text()
    if " Z " in raw[raw.rindex(")") :][:4]:
        raise ProcessLookupError(pid)  # a zombie is as good as gone
    return int(raw[raw.rindex(")") + 2 :].split()[19])


@dataclass
class NodeRecord:
    name: str
    index: int
    role: str
    address: str
    holder: ProcRef | None = None  # PID 1 of the node's pid namespace
    keeper: ProcRef | None = None  # the `unshare` parent (also in the node's netns)
    boot: int = 0
    stopped: bool = False  # powered off with ``stop`` (holder gone on purpose)


@dataclass
class ClusterRecord:
    name: str
    id: str
    created: float
    cni_bin_set: str
    owner: str = OWNER
    fabric: ProcRef | None = None
    fabric_keeper: ProcRef | None = None
    nodes: list[NodeRecord] = field(default_factory=list)
    lifetime_owner: ProcRef | None = None  # e.g. the pytest process; None = until down
    controlplane: ProcRef | None = None
    api_url: str = ""
    api_url_in_cluster: str = ""

    @classmethod
    def from_json(cls, data: dict) -> ClusterRecord:
        if data.get("owner") != OWNER:
            raise SandboxError(
                "not a cniscrub-lab cluster record (owner marker missing)"
            )
        nodes = [
            NodeRecord(
                **{
                    **n,
                    "holder": _ref(n.get("holder")),
                    "keeper": _ref(n.get("keeper")),
                }
            )
            for n in data.get("nodes", [])
        ]
        plain = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        for key in ("fabric", "fabric_keeper", "lifetime_owner", "controlplane"):
            plain[key] = _ref(data.get(key))
        plain["nodes"] = nodes
        return cls(**plain)


def _ref(raw: dict | None) -> ProcRef | None:
    return ProcRef(**raw) if raw else None


class ClusterDir:
    """Paths and record I/O of one cluster's state directory."""

    def __init__(self, name: str, home: Path | None = None) -> None:
        if not name or "/" in name or name.startswith(".") or len(name) > 40:
            raise SandboxError(f"invalid cluster name {name!r}")
        self.name = name
        self.home = (home or state_home()).resolve()
        self.path = self.home / "clusters" / name

    @property
    def record_path(self) -> Path:
        return self.path / "cluster.json"

    def node_dir(self, node: str) -> Path:
        return self.path / "nodes" / node

    def exists(self) -> bool:
        return self.record_path.exists()

    def load(self) -> ClusterRecord:
        try:
            data = json.loads(self.record_path.read_text())
        except FileNotFoundError:
            raise SandboxError(f"no sandbox cluster named {self.name!r}") from None
        except ValueError as exc:
            raise SandboxError(
                f"corrupt cluster record {self.record_path}: {exc}"
            ) from exc
        return ClusterRecord.from_json(data)

    def save(self, record: ClusterRecord) -> None:
        self.path.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path, prefix=".cluster.json.")
        with os.fdopen(fd, "w") as fh:
            json.dump(asdict(record), fh, indent=2)
        os.replace(tmp, self.record_path)

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        self.path.mkdir(parents=True, exist_ok=True)
        with open(self.path / "lock", "w") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    @contextlib.contextmanager
    def locked_if_free(self) -> Iterator[bool]:
        """The lock if nobody holds it (yields True), else yields False at once: an
        ``up``, ``down`` or reboot is at work on the cluster."""
        with open(self.path / "lock", "a") as fh:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                yield False
                return
            try:
                yield True
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)


def list_cluster_dirs(home: Path | None = None) -> list[ClusterDir]:
    root = (home or state_home()) / "clusters"
    if not root.is_dir():
        return []
    return [ClusterDir(p.name, home) for p in sorted(root.iterdir()) if p.is_dir()]
