"""The kind provider's Docker layer: one container driven through the ``docker`` SDK.

Commands are argv lists run with the exec API (stdin, separate stdout/stderr, exit code,
``env``); a timeout is enforced inside the container by coreutils ``timeout`` and again
on the socket. Files are copied with the archive API (what ``docker cp`` uses), except
below the container's tmpfs mounts (kind's ``/run`` and ``/tmp``) and ``/proc``,
``/sys``, ``/dev``, which the archive API cannot see (it reads the container's root
filesystem, not its mounts): those go through ``cat`` in an exec. Power is
``stop``/``start``/``restart`` of the container; a restart empties its tmpfs mounts
as a reboot empties ``/run``.

>>> ops = ContainerOps(docker.from_env(), "kind-worker")   # doctest: +SKIP
>>> ops.exec(["ip", "-br", "link"]).stdout                 # doctest: +SKIP
"""

from __future__ import annotations

import io
import posixpath
import socket
import tarfile
import time
from collections.abc import Mapping, Sequence
from typing import Any

from cniscrub.node.command import CommandError, CommandResult, as_argv
from harness.providers.base import NodeNotRunning, ProviderError

STOP_GRACE = (
    10  # seconds between SIGTERM and SIGKILL on stop/restart (docker's default)
)
_KILL_AFTER = 5  # seconds `timeout` waits after SIGTERM before SIGKILL
_TIMED_OUT = (124, 137)  # coreutils timeout: TERM worked / KILL was needed
_KERNEL_FS = ("/proc", "/sys", "/dev")
_WRITE_SCRIPT = 'mkdir -p -- "$(dirname -- "$1")" && cat > "$1" && chmod "$2" "$1"'
_SYMLINK_HOPS = 8


class ContainerOps:
    """Exec, copy and power operations on one container, by name."""

    def __init__(self, client: Any, name: str) -> None:
        self.client = client
        self.name = name

    def container(self) -> Any:
        import docker.errors

        try:
            return self.client.containers.get(self.name)
        except docker.errors.NotFound:
            raise ProviderError(f"container {self.name} does not exist") from None

    def status(self) -> str:
        """docker's state: ``running``, ``exited``, ``created``, ``restarting``..."""
        return str(self.container().status)

    def labels(self) -> dict[str, str]:
        return dict(self.container().labels)

    # -- commands -----------------------------------------------------------------

    def exec(
        self,
        argv: Sequence[str],
        *,
        input: bytes | str | None = None,
        check: bool = True,
        timeout: float = 120.0,
        env: Mapping[str, str] | None = None,
    ) -> CommandResult:
        args = as_argv(argv)
        data = input.encode() if isinstance(input, str) else input
        api = self.client.api
        limit = max(1, round(timeout))
        wrapped = ["timeout", f"--kill-after={_KILL_AFTER}", str(limit), *args]
        started = time.monotonic()
        exec_id = self._exec_create(wrapped, stdin=data is not None, env=env)
        sock = api.exec_start(exec_id, socket=True)
        try:
            out, err = _talk(sock, data, limit + _KILL_AFTER + 10)
        except TimeoutError:
            raise ProviderError(
                f"exec of {args[0]} in {self.name} gave no answer for "
                f"{limit + _KILL_AFTER + 10}s (the engine is stuck?)"
            ) from None
        rc = self._exit_code(exec_id)
        result = CommandResult(args, rc, out, err)
        note = f"in container {self.name}"
        if rc in _TIMED_OUT and time.monotonic() - started >= limit:
            raise CommandError(result, f"{note}, timed out after {limit}s")
        if check and not result.ok:
            raise CommandError(result, note)
        return result

    def _exec_create(
        self, argv: list[str], *, stdin: bool, env: Mapping[str, str] | None
    ) -> str:
        import docker.errors

        try:
            created = self.client.api.exec_create(
                self.name,
                argv,
                stdin=stdin,
                stdout=True,
                stderr=True,
                tty=False,
                environment=dict(env) if env else None,
            )
        except docker.errors.NotFound:
            raise ProviderError(f"container {self.name} does not exist") from None
        except docker.errors.APIError as exc:
            if exc.status_code == 409:  # "Container ... is not running"
                raise NodeNotRunning(
                    f"{self.name} is not running (stopped or rebooting): "
                    f"{exc.explanation}"
                ) from exc
            raise
        return str(created["Id"])

    def _exit_code(self, exec_id: str, wait: float = 10.0) -> int:
        """The exec's exit code (docker may report it a moment after the stream ends)."""
        deadline = time.monotonic() + wait
        while True:
            info = self.client.api.exec_inspect(exec_id)
            if not info.get("Running") and info.get("ExitCode") is not None:
                return int(info["ExitCode"])
            if time.monotonic() > deadline:
                raise ProviderError(f"exec {exec_id[:12]} in {self.name} never exited")
            time.sleep(0.02)

    # -- files --------------------------------------------------------------------

    def read_file(self, path: str) -> bytes:
        if self._outside_archive(path):
            result = self.exec(["cat", "--", path], check=False)
            if result.ok:
                return result.stdout_bytes
            if "No such file" in result.stderr:
                raise FileNotFoundError(f"{self.name}:{path}")
            raise CommandError(result, f"in container {self.name}")
        for _ in range(_SYMLINK_HOPS):
            member, data = self._archive_entry(path)
            if member.issym():
                path = posixpath.join(posixpath.dirname(path), member.linkname)
            elif member.isdir():
                raise IsADirectoryError(f"{self.name}:{path}")
            elif not member.isfile():
                raise ProviderError(f"{self.name}:{path} is not a regular file")
            else:
                return data
        raise ProviderError(f"{self.name}:{path}: too many levels of symbolic links")

    def _archive_entry(self, path: str) -> tuple[tarfile.TarInfo, bytes]:
        """The archive API's entry for ``path`` (not following a symlink) and, for a
        regular file, its bytes."""
        import docker.errors

        try:
            stream, _ = self.container().get_archive(path)
        except docker.errors.NotFound:
            raise FileNotFoundError(f"{self.name}:{path}") from None
        with tarfile.open(fileobj=io.BytesIO(b"".join(stream))) as tar:
            member = tar.getmembers()[0]
            handle = tar.extractfile(member) if member.isfile() else None
            return member, handle.read() if handle is not None else b""

    def write_file(self, path: str, data: bytes | str, mode: int = 0o644) -> None:
        payload = data.encode() if isinstance(data, str) else data
        if self._outside_archive(path):
            self.exec(
                ["sh", "-c", _WRITE_SCRIPT, "sh", path, f"{mode:o}"], input=payload
            )
            return
        directory, name = posixpath.split(path)
        self.put_files(directory, {name: (payload, mode)})

    def put_files(self, directory: str, files: Mapping[str, tuple[bytes, int]]) -> None:
        """Copy files (name -> (bytes, mode), owned by root) into ``directory``,
        creating it first; one archive upload, as ``docker cp`` does."""
        self.exec(["mkdir", "-p", "--", directory])
        if not self.container().put_archive(directory, tar_of(files)):
            raise ProviderError(f"copying into {self.name}:{directory} failed")

    def _outside_archive(self, path: str) -> bool:
        """True for paths the archive API cannot see: tmpfs mounts and kernel fs."""
        attrs = self.container().attrs
        mounts = list((attrs.get("HostConfig") or {}).get("Tmpfs") or {})
        mounts += [
            m["Destination"]
            for m in attrs.get("Mounts") or []
            if m.get("Type") == "tmpfs"
        ]
        return any(_under(path, m) for m in [*mounts, *_KERNEL_FS])

    # -- power --------------------------------------------------------------------

    def stop(self, timeout: int = STOP_GRACE) -> None:
        self.container().stop(timeout=timeout)

    def start(self) -> None:
        self.container().start()

    def restart(self, timeout: int = STOP_GRACE) -> None:
        self.container().restart(timeout=timeout)


def tar_of(files: Mapping[str, tuple[bytes, int]]) -> bytes:
    """An uncompressed tar of regular files owned by root:root."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, (data, mode) in sorted(files.items()):
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), mode, int(time.time())
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def _under(path: str, mount: str) -> bool:
    path, mount = posixpath.normpath(path), posixpath.normpath(mount)
    return path == mount or path.startswith(mount.rstrip("/") + "/")


def _talk(sock: Any, data: bytes | None, timeout: float) -> tuple[bytes, bytes]:
    """Send stdin (then EOF), read docker's multiplexed stdout/stderr frames."""
    from docker.utils.socket import consume_socket_output, demux_adaptor, frames_iter

    raw = getattr(sock, "_sock", sock)
    raw.settimeout(timeout)
    try:
        if data:
            raw.sendall(data)
        if data is not None:
            raw.shutdown(socket.SHUT_WR)
        frames = (demux_adaptor(*frame) for frame in frames_iter(sock, tty=False))
        out, err = consume_socket_output(frames, demux=True)
    finally:
        sock.close()
    return out or b"", err or b""
