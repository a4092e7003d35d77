"""How cniscrub runs commands on a node: the :class:`Runner` protocol every layer codes
against, and :class:`LocalRunner`, which runs argv lists in the current namespaces.

>>> LocalRunner().run(["true"]).ok
True
"""

from __future__ import annotations

import logging
import shutil
import subprocess
from collections.abc import Sequence
from typing import Protocol

from cniscrub.node.command import CommandResult, as_argv

log = logging.getLogger(__name__)


class Runner(Protocol):
    """Runs one argv list (never a shell string) and finds binaries on ``PATH``."""

    def run(
        self, argv: Sequence[str], *, stdin: bytes | None = None
    ) -> CommandResult: ...

    def which(self, name: str) -> str | None: ...


class LocalRunner:
    """Runs commands in the current namespaces; a missing binary gives rc 127."""

    def __init__(self, timeout: float = 120.0) -> None:
        self.timeout = timeout

    def which(self, name: str) -> str | None:
        return shutil.which(name)

    def run(self, argv: Sequence[str], *, stdin: bytes | None = None) -> CommandResult:
        args = as_argv(argv)
        log.debug("RUN %s", " ".join(args))
        try:
            proc = subprocess.run(
                args,
                input=stdin,
                capture_output=True,
                timeout=self.timeout,
                check=False,
            )
        except FileNotFoundError as exc:
            return CommandResult(args, 127, b"", str(exc).encode())
        except subprocess.TimeoutExpired:
            return CommandResult(args, 124, b"", b"timed out")
        return CommandResult(args, proc.returncode, proc.stdout, proc.stderr)
