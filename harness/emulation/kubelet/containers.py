"""Start, signal and wait for one container process inside a sandbox node (test
emulation). The process is ``nsenter`` (host side) → the shim inside the node; signals
go straight to the shim by its host pid, as kubelet → runtime → container would."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

from harness.emulation.kubelet.shim import SPEC_ENV
from harness.providers.sandbox.node import SandboxNode


class ContainerProcess:
    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.exit_code: int | None = None

    @classmethod
    async def start(
        cls, node: SandboxNode, spec: str, netns: str | None
    ) -> ContainerProcess:
        """Start the shim; ``spec`` (JSON) travels in its environment, no file needed."""
        inner = ["nsenter", f"--net={netns}", "--"] if netns else []
        argv = node.nsenter_argv(
            [
                *inner,
                "unshare",
                "--mount",
                "--propagation",
                "private",
                "--",
                sys.executable,
                "-m",
                "harness.emulation.kubelet.shim",
            ]
        )
        proc = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
            env={**node.marker_env(), SPEC_ENV: spec},
            start_new_session=True,
        )
        return cls(proc)

    def _target(self) -> int:
        """The container's host pid: the only child of nsenter (or nsenter itself)."""
        try:
            kids = Path(
                f"/proc/{self.proc.pid}/task/{self.proc.pid}/children"
            ).read_text()
            return int(kids.split()[0])
        except (OSError, IndexError, ValueError):
            return self.proc.pid

    def signal(self, sig: int) -> None:
        if self.proc.returncode is not None:
            return
        try:
            os.kill(self._target(), sig)
        except ProcessLookupError:
            pass

    async def wait(self) -> int:
        rc = await self.proc.wait()
        self.exit_code = rc
        return rc

    async def stop(self, grace: float) -> int:
        """SIGTERM, wait up to ``grace`` seconds, then SIGKILL (kubelet's sequence)."""
        self.signal(signal.SIGTERM)
        try:
            return await asyncio.wait_for(
                asyncio.shield(self.wait()), timeout=max(grace, 0.1)
            )
        except TimeoutError:
            self.signal(signal.SIGKILL)
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            return await self.wait()
