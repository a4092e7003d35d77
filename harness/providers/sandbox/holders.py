"""Start and stop holder processes (see :mod:`holder`), the things sandbox namespaces
hang on.

A holder is started through util-linux ``unshare``; its parent (the *keeper*) stays in
the new net/mount/uts namespaces too, so both are tracked and both must be gone before a
node's namespaces are released. Starting is parallel: all holders are spawned, then their
``ready`` lines are read with one deadline.
"""

from __future__ import annotations

import json
import os
import selectors
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from harness.providers.sandbox.state import (
    MARKER_ENV,
    MARKER_HOME_ENV,
    ProcRef,
    SandboxError,
)

HOLDER_SCRIPT = Path(__file__).with_name("holder.py")
NODE_NAMESPACES = (
    "--net",
    "--mount",
    "--uts",
    "--ipc",
    "--pid",
    "--fork",
    "--mount-proc",
    "--kill-child",
)
FABRIC_NAMESPACES = ("--net", "--fork", "--kill-child")
READY_TIMEOUT = 30.0
GONE_TIMEOUT = 15.0

# keepers started by this process, reaped by pid (never waitpid(-1): that would steal
# the exit status of other subprocesses of the same program)
_KEEPERS: dict[int, subprocess.Popen[bytes]] = {}


@dataclass
class Started:
    keeper: ProcRef
    holder: ProcRef
    popen: subprocess.Popen[bytes]


def marker_env(cluster_id: str, home: Path) -> dict[str, str]:
    """A node-like environment that carries the ownership marker: the cluster's id and
    the state root whose ``clusters/`` holds its record."""
    return {
        "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "HOME": "/root",
        "LANG": "C.UTF-8",
        MARKER_ENV: cluster_id,
        MARKER_HOME_ENV: str(home.resolve()),
    }


def start(
    specs: Sequence[dict | str], namespaces: tuple[str, ...], env: dict[str, str]
) -> list[Started]:
    """Spawn one holder per spec (``env``: its :func:`marker_env`) and wait until every
    one of them is ready."""
    popens = [
        subprocess.Popen(
            [
                "unshare",
                *namespaces,
                "--",
                sys.executable,
                "-S",
                "-I",
                str(HOLDER_SCRIPT),
                spec if isinstance(spec, str) else json.dumps(spec),
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            start_new_session=True,
            close_fds=True,
        )
        for spec in specs
    ]
    try:
        _wait_ready(popens)
        for p in popens:
            _KEEPERS[p.pid] = p
        return [
            Started(ProcRef.of(p.pid), ProcRef.of(_only_child(p.pid)), p)
            for p in popens
        ]
    except BaseException:
        for p in popens:
            _kill_tree(p)
        raise


def _wait_ready(popens: list[subprocess.Popen[bytes]]) -> None:
    sel = selectors.DefaultSelector()
    buffers: dict[int, bytes] = {}
    for p in popens:
        assert p.stdout is not None
        sel.register(p.stdout, selectors.EVENT_READ, p)
        buffers[p.pid] = b""
    pending = len(popens)
    deadline = time.monotonic() + READY_TIMEOUT
    while pending:
        left = deadline - time.monotonic()
        if left <= 0:
            raise SandboxError(
                f"{pending} holder(s) not ready after {READY_TIMEOUT:.0f}s"
            )
        for key, _ in sel.select(timeout=left):
            p = key.data
            chunk = os.read(key.fd, 4096)
            buffers[p.pid] += chunk
            if b"\n" in buffers[p.pid] or not chunk:
                sel.unregister(key.fileobj)
                pending -= 1
                line = buffers[p.pid].decode(errors="replace").strip()
                if line != "ready":
                    err = b""
                    if not chunk or p.poll() is not None:
                        assert p.stderr is not None
                        err = p.stderr.read() or b""
                    raise SandboxError(
                        f"sandbox holder failed to start: {line or 'no output'} "
                        f"{err.decode(errors='replace').strip()}".strip()
                    )
    sel.close()
    for p in popens:
        for pipe in (p.stdout, p.stderr):
            if pipe is not None:
                pipe.close()


def _only_child(pid: int) -> int:
    deadline = time.monotonic() + 5
    path = Path(f"/proc/{pid}/task/{pid}/children")
    while time.monotonic() < deadline:
        kids = path.read_text().split()
        if kids:
            return int(kids[0])
        time.sleep(0.002)
    raise SandboxError(f"unshare {pid} has no child process")


def kill(refs: list[ProcRef | None], timeout: float = GONE_TIMEOUT) -> None:
    """SIGKILL every process (a PID-namespace init ignores SIGTERM) and wait until gone."""
    live = [r for r in refs if r is not None and r.alive()]
    for ref in live:
        try:
            os.kill(ref.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    _reap_children()
    deadline = time.monotonic() + timeout
    while any(r.alive() for r in live):
        if time.monotonic() > deadline:
            still = [r.pid for r in live if r.alive()]
            raise SandboxError(f"processes {still} did not exit after SIGKILL")
        time.sleep(0.003)
        _reap_children()


def _reap_children() -> None:
    """Reap keepers this process started (they would stay zombies otherwise)."""
    for pid, popen in list(_KEEPERS.items()):
        if popen.poll() is not None:
            del _KEEPERS[pid]


def _kill_tree(p: subprocess.Popen[bytes]) -> None:
    try:
        kids = Path(f"/proc/{p.pid}/task/{p.pid}/children").read_text().split()
    except OSError:
        kids = []
    for pid in [*map(int, kids), p.pid]:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    p.wait(timeout=GONE_TIMEOUT)
