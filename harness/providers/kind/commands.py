"""How the kind provider runs ``kind`` and ``kubectl``: argv lists through one injectable
runner (tests record the exact sequences), kubectl always with an explicit
``--kubeconfig`` so a recorded call says which cluster it went to.

>>> kubectl = Kubectl("kubectl", Path("/k/kubeconfig"), runner=lambda argv, **kw: None)
>>> kubectl.argv("get", "nodes")
['kubectl', '--kubeconfig', '/k/kubeconfig', 'get', 'nodes']
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

from cniscrub.node.command import CommandError, CommandResult, as_argv


class Runner(Protocol):
    def __call__(
        self,
        argv: Sequence[str],
        *,
        input: str | None = None,
        timeout: float = 60.0,
        env: Mapping[str, str] | None = None,
    ) -> CommandResult: ...


def run(
    argv: Sequence[str],
    *,
    input: str | None = None,
    timeout: float = 60.0,
    env: Mapping[str, str] | None = None,
) -> CommandResult:
    """Run argv on this machine; never raises on a non-zero exit (``.check()`` does)."""
    args = as_argv(argv)
    try:
        proc = subprocess.run(
            args,
            input=input.encode() if input is not None else None,
            capture_output=True,
            timeout=timeout,
            env=dict(env) if env is not None else None,
        )
    except subprocess.TimeoutExpired as exc:
        result = CommandResult(args, 124, exc.stdout or b"", exc.stderr or b"")
        raise CommandError(result, f"timed out after {timeout:.0f}s") from None
    except FileNotFoundError:
        raise CommandError(
            CommandResult(args, 127, b"", f"{args[0]}: not found".encode())
        ) from None
    return CommandResult(args, proc.returncode, proc.stdout, proc.stderr)


class Kubectl:
    """kubectl bound to one kubeconfig."""

    def __init__(self, binary: str, kubeconfig: Path, runner: Runner = run) -> None:
        self.binary = binary
        self.kubeconfig = kubeconfig
        self.runner = runner

    def argv(self, *args: str) -> list[str]:
        return [self.binary, "--kubeconfig", str(self.kubeconfig), *args]

    def __call__(
        self,
        *args: str,
        input: str | None = None,
        timeout: float = 60.0,
        check: bool = True,
    ) -> CommandResult:
        result = self.runner(self.argv(*args), input=input, timeout=timeout)
        return result.check() if check else result

    def json(self, *args: str, timeout: float = 60.0) -> Any:
        return json.loads(self(*args, "-o", "json", timeout=timeout).stdout)
