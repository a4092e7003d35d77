"""The docker-SDK layer's exact calls on a fake client: argv exec (wrapped in the
container's own ``timeout``), stdin, env, separate streams over docker's real
multiplexed format, file copy through the archive API or, below tmpfs mounts that the
archive API cannot see, through ``cat``; power calls; a stopped container."""

from __future__ import annotations

import itertools

import pytest
from kind_fakes import FakeDocker, tar_members

from cniscrub.node.command import CommandError
from harness.providers.base import NodeNotRunning, ProviderError
from harness.providers.kind.docker_ops import ContainerOps, tar_of


@pytest.fixture
def ops(fake_docker: FakeDocker) -> ContainerOps:
    fake_docker.add("n1")
    return ContainerOps(fake_docker, "n1")


def test_exec_sends_argv_stdin_and_env_and_splits_the_streams(
    fake_docker: FakeDocker, ops: ContainerOps
) -> None:
    seen = []

    def handler(
        container: str, argv: list[str], stdin: bytes
    ) -> tuple[int, bytes, bytes]:
        seen.append((container, argv, stdin))
        return 3, b"out\n" * 5000, b"err\n"

    fake_docker.on_exec = handler
    result = ops.exec(
        ["sh", "-c", "x y"], input="data", check=False, timeout=7, env={"A": "1"}
    )
    assert (result.rc, result.stdout, result.stderr) == (3, "out\n" * 5000, "err\n")
    assert result.argv == ("sh", "-c", "x y")
    assert seen == [("n1", ["sh", "-c", "x y"], b"data")]
    assert fake_docker.calls == [
        (
            "exec_create",
            "n1",
            ["timeout", "--kill-after=5", "7", "sh", "-c", "x y"],
            {"A": "1"},
        )
    ]
    with pytest.raises(CommandError, match=r"exit 3.*in container n1"):
        ops.exec(["false"])


def test_exec_refuses_a_shell_string(ops: ContainerOps) -> None:
    with pytest.raises(TypeError, match="not a shell string"):
        ops.exec("ls /")  # type: ignore[arg-type]


def test_a_timed_out_command_raises_with_the_limit(
    fake_docker: FakeDocker, ops: ContainerOps, monkeypatch: pytest.MonkeyPatch
) -> None:
    import harness.providers.kind.docker_ops as mod

    clock = itertools.count(0.0, 50.0)  # every reading 50 s later
    monkeypatch.setattr(mod.time, "monotonic", lambda: next(clock))
    fake_docker.on_exec = lambda c, argv, stdin: (124, b"", b"")
    with pytest.raises(CommandError, match="timed out after 5s"):
        ops.exec(["sleep", "60"], timeout=5, check=False)


def test_exec_on_a_stopped_container_is_node_not_running(
    fake_docker: FakeDocker, ops: ContainerOps
) -> None:
    ops.stop()
    with pytest.raises(NodeNotRunning, match="n1 is not running"):
        ops.exec(["true"])
    with pytest.raises(ProviderError, match="container nope does not exist"):
        ContainerOps(fake_docker, "nope").exec(["true"])


def test_files_on_the_container_fs_go_through_the_archive_api(
    fake_docker: FakeDocker, ops: ContainerOps
) -> None:
    ops.write_file("/etc/cni/net.d/10-flannel.conflist", "{}", 0o600)
    calls = fake_docker.calls
    assert calls[0][2][3:] == ["mkdir", "-p", "--", "/etc/cni/net.d"]
    assert calls[1] == (
        "put_archive",
        "n1",
        "/etc/cni/net.d",
        [("10-flannel.conflist", "0o600")],
    )
    assert ops.read_file("/etc/cni/net.d/10-flannel.conflist") == b"{}"
    with pytest.raises(FileNotFoundError, match="n1:/etc/missing"):
        ops.read_file("/etc/missing")


def test_files_below_tmpfs_mounts_go_through_exec(
    fake_docker: FakeDocker, ops: ContainerOps
) -> None:
    store: dict[str, bytes] = {}

    def handler(
        container: str, argv: list[str], stdin: bytes
    ) -> tuple[int, bytes, bytes]:
        if argv[0] == "sh":
            store[argv[4]] = stdin
            return 0, b"", b""
        path = argv[-1]
        if path in store:
            return 0, store[path], b""
        return 1, b"", f"cat: {path}: No such file or directory\n".encode()

    fake_docker.on_exec = handler
    ops.write_file("/run/flannel/subnet.env", "FLANNEL_MTU=1450\n", 0o644)
    assert fake_docker.calls[0][2][3:] == [
        "sh",
        "-c",
        'mkdir -p -- "$(dirname -- "$1")" && cat > "$1" && chmod "$2" "$1"',
        "sh",
        "/run/flannel/subnet.env",
        "644",
    ]
    assert ops.read_file("/run/flannel/subnet.env") == b"FLANNEL_MTU=1450\n"
    with pytest.raises(FileNotFoundError):
        ops.read_file("/tmp/nothing")
    assert not [c for c in fake_docker.calls if c[0] in ("put_archive", "get_archive")]


def test_power_calls(fake_docker: FakeDocker, ops: ContainerOps) -> None:
    ops.restart(timeout=3)
    ops.stop()
    ops.start()
    assert fake_docker.calls == [
        ("restart", "n1", 3),
        ("stop", "n1", 10),
        ("start", "n1"),
    ]
    assert ops.status() == "running"


def test_tar_of_makes_root_owned_files_with_modes() -> None:
    data = tar_of({"bridge": (b"ELF", 0o755), "conf": (b"{}", 0o600)})
    assert tar_members(data) == [("bridge", 0o755, b"ELF"), ("conf", 0o600, b"{}")]
