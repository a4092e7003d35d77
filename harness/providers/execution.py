"""Run a host-side argv that enters a node, and capture it as a ``CommandResult``: the
one body behind every ``Node.exec`` (sandbox nodes enter with ``nsenter``, light nodes
with ``ip netns exec``).

Output goes to temporary files, not pipes, so a daemon started by the command cannot
keep the call waiting; the command gets its own session, so a timeout kills all of it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import tempfile

from cniscrub.node.command import CommandError, CommandResult


def run_entering(
    args: tuple[str, ...],
    host_argv: list[str],
    *,
    where: str,
    input: bytes | str | None = None,
    check: bool = True,
    timeout: float = 120.0,
    env: dict[str, str] | None = None,
    cwd: str | None = None,
) -> CommandResult:
    """Run ``host_argv`` (which runs ``args`` in a node); raise CommandError on failure
    when ``check`` and always on a timeout (``where`` names the node in the error)."""
    data = input.encode() if isinstance(input, str) else input
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(
            host_argv,
            stdin=subprocess.PIPE if data is not None else subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            env=env,
            cwd=cwd,
            start_new_session=True,
        )
        note = f"on {where}"
        try:
            proc.communicate(data, timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            note, check = f"{note}, timed out after {timeout}s", True
        out.seek(0)
        err.seek(0)
        result = CommandResult(args, proc.returncode, out.read(), err.read())
    if check and not result.ok:
        raise CommandError(result, note)
    return result
