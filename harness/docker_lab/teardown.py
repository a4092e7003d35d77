"""Remove a lab Docker engine completely: containers, images, dockerd, containerd and
its shims, container processes, mounts, cgroups, the network namespace, the state dir.

Everything is found by ownership only: the engine's record (``engine.json``), the
``CNISCRUB_LAB_ENGINE=<id>`` marker in a process's environment, and the engine's own
cgroup parent. :func:`collect` removes engines whose lifetime owner (the pytest run
that started them) is gone, as ``cniscrub-lab gc`` does for sandbox clusters.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

from harness.docker_lab.engine import (
    MARKER_ENV,
    EngineError,
    EngineRecord,
    engines_home,
)
from harness.providers.sandbox import holders
from harness.providers.sandbox.state import ProcRef
from harness.providers.sandbox.teardown import marked_processes, unmount_under

log = logging.getLogger(__name__)
CGROUP_ROOT = Path("/sys/fs/cgroup")
DOCKERD_GRACE = 20.0


def remove_engine(
    state_dir: Path,
    record: EngineRecord,
    client: Any = None,
    grace: float = DOCKERD_GRACE,
) -> None:
    """Tear the engine down; idempotent, and safe on a half-started engine."""
    if client is None and record.dockerd is not None and record.dockerd.alive():
        client = _connect(state_dir)
    if client is not None:
        try:
            remove_objects(client)
        except Exception as exc:  # the state dir goes anyway; say what was left
            log.warning(
                "lab engine %s: removing containers/images failed: %s", record.id, exc
            )
        client.close()
    _stop_dockerd(record.dockerd, grace)
    holders.kill(
        [_ref(pid) for pid in processes_marked(record.id)]
        + [_ref(pid) for pid in cgroup_processes(record.cgroup_parent)]
    )
    remove_cgroups(record.cgroup_parent)
    unmount_under(state_dir)
    if Path("/run/netns", record.netns).exists():
        subprocess.run(
            ["ip", "netns", "delete", record.netns], capture_output=True, check=False
        )
    shutil.rmtree(state_dir, ignore_errors=True)


def remove_objects(client: Any) -> None:
    """Every container, image and volume in the engine (the whole engine is ours)."""
    import docker.errors

    for container in client.containers.list(all=True):
        with contextlib.suppress(docker.errors.NotFound):
            container.remove(force=True, v=True)
    for image in client.images.list():  # leaves first: their parents go with them
        with contextlib.suppress(docker.errors.NotFound):
            client.images.remove(image.id, force=True)
    client.images.prune(filters={"dangling": False})
    client.volumes.prune()


def _connect(state_dir: Path) -> Any:
    import docker

    try:
        client = docker.DockerClient(
            base_url=f"unix://{state_dir}/docker.sock", timeout=10
        )
        client.ping()
        return client
    except Exception as exc:  # a dying engine: fall back to killing it
        log.warning("lab engine %s does not answer (%s); killing it", state_dir, exc)
        return None


def _stop_dockerd(ref: ProcRef | None, grace: float) -> None:
    """SIGTERM (dockerd then stops containerd itself), SIGKILL after ``grace``."""
    if ref is None or not ref.alive():
        return
    os.kill(ref.pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while ref.alive() and time.monotonic() < deadline:
        time.sleep(0.05)
    holders.kill([ref])


def _ref(pid: int) -> ProcRef | None:
    try:
        return ProcRef.of(pid)
    except (OSError, ProcessLookupError, ValueError):
        return None


def processes_marked(engine_id: str) -> list[int]:
    """Processes whose environment holds ``CNISCRUB_LAB_ENGINE=<engine_id>``."""
    marked = marked_processes(MARKER_ENV)
    return sorted(pid for pid, mark in marked.items() if mark == engine_id)


def _cgroup_dirs(parent: str) -> list[Path]:
    """The engine's cgroup parent in every hierarchy (v1 controllers or v2), deepest
    directories first."""
    tops = [CGROUP_ROOT / parent]
    if CGROUP_ROOT.is_dir():
        tops += [d / parent for d in CGROUP_ROOT.iterdir() if d.is_dir()]
    found = []
    for top in tops:
        if top.is_dir():
            found += [Path(root) for root, _, _ in os.walk(top)]
    return sorted(set(found), key=lambda p: len(p.parts), reverse=True)


def cgroup_processes(parent: str) -> list[int]:
    pids: set[int] = set()
    for cg in _cgroup_dirs(parent):
        with contextlib.suppress(OSError):
            pids.update(int(p) for p in (cg / "cgroup.procs").read_text().split())
    return sorted(pids)


def remove_cgroups(parent: str) -> None:
    for cg in _cgroup_dirs(parent):
        with contextlib.suppress(OSError):
            cg.rmdir()


def collect(home: Path | None = None, everything: bool = False) -> list[str]:
    """Remove engines whose lifetime owner is gone (all of them with ``everything``);
    return their ids."""
    root = home or engines_home()
    removed = []
    for state_dir in sorted(root.iterdir()) if root.is_dir() else []:
        try:
            record = EngineRecord.load(state_dir / "engine.json")
        except (OSError, ValueError, TypeError, EngineError) as exc:
            log.warning("gc: skipping %s: %s", state_dir, exc)
            continue
        owner = record.lifetime_owner
        if everything or owner is None or not owner.alive():
            remove_engine(state_dir, record)
            removed.append(record.id)
    return removed


def main(argv: list[str] | None = None) -> int:
    """``python -m harness.docker_lab.teardown [--all]``: collect crashed lab engines."""
    import argparse
    import sys

    parser = argparse.ArgumentParser(
        prog="python -m harness.docker_lab.teardown",
        description="Remove lab Docker engines whose owner is gone (--all: every one).",
    )
    parser.add_argument("--all", action="store_true", help="remove running ones too")
    args = parser.parse_args(argv)
    for engine_id in collect(everything=args.all):
        sys.stdout.write(f"removed lab engine {engine_id}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
