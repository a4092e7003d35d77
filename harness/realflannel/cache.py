"""The build cache of real Flannel binaries, outside the repository.

Layout under :func:`cache_root` (``$CNISCRUB_CACHE_DIR``, else
``$XDG_CACHE_HOME/cniscrub``, else ``~/.cache/cniscrub``)::

    flannel/<tag>/flanneld              flanneld built from github.com/flannel-io/flannel
    flannel/<tag>/build.json            its build record (built, or why not)
    flannel-cni-plugin/<tag>/flannel    the CNI plugin from github.com/flannel-io/cni-plugin
    go/mod, go/build                    GOMODCACHE and GOCACHE of these builds

A record says what the last build attempt of that program gave: ``ok`` with the Go
version and seconds it took, or the one-line ``reason`` it failed (the Go module proxy's
refusal, a missing toolchain, a compile error) and the tail of Go's output.
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

from harness.realflannel.programs import GoProgram

CACHE_ENV = "CNISCRUB_CACHE_DIR"
RECORD = "build.json"


def cache_root() -> Path:
    explicit = os.environ.get(CACHE_ENV)
    if explicit:
        return Path(explicit)
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg else Path.home() / ".cache"
    return base / "cniscrub"


@dataclass(frozen=True)
class BuildRecord:
    """The outcome of the last build attempt of one program."""

    target: str  # module@tag
    ok: bool
    reason: str = ""  # one line, for messages and skip reasons
    output: str = ""  # the tail of go's output when it failed
    go_version: str = ""
    seconds: float = 0.0
    finished: float = 0.0  # time.time()

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=1)


class BuildCache:
    """Where each program's binary and record live, under one root."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = root or cache_root()

    def dir(self, program: GoProgram) -> Path:
        return self.root / program.image_repo / program.tag

    def binary(self, program: GoProgram) -> Path:
        return self.dir(program) / program.cached_name

    def built(self, program: GoProgram) -> Path | None:
        """The cached binary when the last build succeeded and it is still there."""
        path = self.binary(program)
        record = self.record(program)
        if record is not None and record.ok and os.access(path, os.X_OK):
            return path
        return None

    def record(self, program: GoProgram) -> BuildRecord | None:
        try:
            data = json.loads((self.dir(program) / RECORD).read_text())
            return BuildRecord(**data)
        except (OSError, ValueError, TypeError):
            return None

    def save(self, program: GoProgram, record: BuildRecord) -> None:
        directory = self.dir(program)
        directory.mkdir(parents=True, exist_ok=True)
        tmp = directory / f".{RECORD}.tmp"
        tmp.write_text(record.to_json())
        tmp.replace(directory / RECORD)

    def go_dirs(self) -> dict[str, str]:
        """GOMODCACHE and GOCACHE for these builds (outside the repository)."""
        return {
            "GOMODCACHE": str(self.root / "go" / "mod"),
            "GOCACHE": str(self.root / "go" / "build"),
        }

    @contextmanager
    def locked(
        self, program: GoProgram, on_wait: Callable[[], None] | None = None
    ) -> Iterator[None]:
        """One build of a program at a time, across processes (``on_wait`` is called
        when another process holds the lock)."""
        directory = self.dir(program)
        directory.mkdir(parents=True, exist_ok=True)
        with open(directory / ".lock", "w") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if on_wait is not None:
                    on_wait()
                fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)


def age(record: BuildRecord) -> float:
    """Seconds since the record was written."""
    return max(0.0, time.time() - record.finished)
