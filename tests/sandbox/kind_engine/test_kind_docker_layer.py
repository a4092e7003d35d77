"""The kind provider's Docker layer (:class:`ContainerOps`) against a real dockerd, on
plain containers shaped like kind nodes (tmpfs /run and /tmp, a volume on /var:
harness-anchors.md §8 "Reboot simulation"): argv exec, stdin/env/streams, timeouts,
file copy in and out, stop/start, restart emptying /run, ownership labels, and an
engine that leaves nothing behind, also after a crash."""

from __future__ import annotations

import os
import shutil
import signal
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from kind_lab import run_node_like, start_engine

from cniscrub.node.command import CommandError
from harness.docker_lab import teardown
from harness.docker_lab.engine import OWNER_LABEL, LabEngine
from harness.providers.base import NodeNotRunning
from harness.providers.kind.docker_ops import ContainerOps
from harness.providers.kind.node import KindNode
from harness.providers.kind.provider import KindProvider

pytestmark = [pytest.mark.sandbox]
PS = "import os; print([open(f'/proc/{p}/cmdline','rb').read() for p in os.listdir('/proc') if p.isdigit()])"  # noqa: E501


def test_exec_runs_an_argv_list_with_no_shell(node_like: ContainerOps) -> None:
    result = node_like.exec(["printf", "%s|", "a b", "$HOME", "*", "; rm -rf /"])
    assert result.stdout == "a b|$HOME|*|; rm -rf /|"


def test_exec_stdin_env_separate_streams_and_exit_code(node_like: ContainerOps) -> None:
    script = 'cat; echo "$GREETING"; echo oops >&2; exit 7'
    result = node_like.exec(
        ["sh", "-c", script], input=b"\x00binary\n", env={"GREETING": "hi"}, check=False
    )
    assert (result.rc, result.stdout_bytes, result.stderr) == (
        7,
        b"\x00binary\nhi\n",
        "oops\n",
    )
    with pytest.raises(CommandError, match="exit 7"):
        node_like.exec(["sh", "-c", "exit 7"])


def test_a_timed_out_command_is_killed_inside_the_container(
    node_like: ContainerOps,
) -> None:
    started = time.monotonic()
    with pytest.raises(CommandError, match="timed out after 1s"):
        node_like.exec(["sleep", "37"], timeout=1)
    assert time.monotonic() - started < 15
    assert b"sleep\x0037" not in node_like.exec(["python3", "-c", PS]).stdout_bytes


def test_file_copy_in_and_out(node_like: ContainerOps) -> None:
    blob = bytes(range(256)) * 300
    node_like.write_file("/opt/cni/bin/bridge", blob, 0o755)  # archive API
    node_like.write_file(
        "/run/flannel/subnet.env", "FLANNEL_MTU=1450\n", 0o600
    )  # tmpfs
    assert node_like.read_file("/opt/cni/bin/bridge") == blob
    assert node_like.read_file("/run/flannel/subnet.env") == b"FLANNEL_MTU=1450\n"
    modes = node_like.exec(
        ["stat", "-c", "%a %u %n", "/opt/cni/bin/bridge", "/run/flannel/subnet.env"]
    ).stdout.splitlines()
    assert modes == ["755 0 /opt/cni/bin/bridge", "600 0 /run/flannel/subnet.env"]
    node_like.put_files(
        "/etc/cni/net.d", {"10-a.conf": (b"{}", 0o644), "20-b.conf": (b"[]", 0o600)}
    )
    assert node_like.exec(["ls", "/etc/cni/net.d"]).stdout.split() == [
        "10-a.conf",
        "20-b.conf",
    ]
    node_like.exec(["ln", "-s", "../os-release", "/etc/cni/os"])
    assert node_like.read_file("/etc/cni/os") == node_like.read_file("/etc/os-release")
    for missing in ("/etc/cni/none", "/run/none"):
        with pytest.raises(FileNotFoundError):
            node_like.read_file(missing)


def test_stop_and_start(node_like: ContainerOps) -> None:
    node_like.write_file("/etc/kept", "disk\n")
    node_like.stop(timeout=5)
    assert node_like.status() == "exited"
    with pytest.raises(NodeNotRunning, match="is not running"):
        node_like.exec(["true"])
    node_like.start()
    assert node_like.status() == "running"
    assert node_like.read_file("/etc/kept") == b"disk\n"


def test_restart_empties_run_and_tmp_and_keeps_etc_and_var(
    node_like: ContainerOps,
) -> None:
    for path in ("/run/flannel/subnet.env", "/tmp/x", "/etc/cni/net.d/10-flannel.conflist",
                 "/var/lib/cni/networks/cbr0/10.244.1.2"):  # fmt: skip
        node_like.write_file(path, "x")
    node_like.restart(timeout=5)
    assert node_like.exec(["ls", "-A", "/run", "/tmp"]).stdout.split() == [
        "/run:",
        "/tmp:",
    ]
    assert node_like.read_file("/etc/cni/net.d/10-flannel.conflist") == b"x"
    assert node_like.read_file("/var/lib/cni/networks/cbr0/10.244.1.2") == b"x"


def test_a_kind_node_on_this_container_has_testinfras_docker_host(
    lab_engine: LabEngine, node_like: ContainerOps, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``node.host`` is testinfra's ``docker://<node>`` (the docker CLI, DOCKER_HOST
    from the environment; harness-anchors.md §2), seeing what the SDK layer wrote."""
    if shutil.which("docker") is None:
        pytest.skip("no docker CLI on PATH (testinfra's docker backend runs it)")
    monkeypatch.setenv("DOCKER_HOST", lab_engine.url)
    cluster = SimpleNamespace(docker=lab_engine.client())
    node = KindNode(cluster, node_like.name, "worker")  # type: ignore[arg-type]
    node.write_file("/etc/cni/net.d/10-flannel.conflist", '{"name": "cbr0"}')
    conf = node.host.file("/etc/cni/net.d/10-flannel.conflist")
    assert conf.exists and conf.content_string == '{"name": "cbr0"}'
    assert node.host.run("id -u").stdout.strip() == "0"
    assert (
        node.exec(["cat", "/etc/cni/net.d/10-flannel.conflist"]).stdout
        == conf.content_string
    )


def test_everything_made_carries_the_ownership_label(
    lab_engine: LabEngine, base_image: str, node_like: ContainerOps
) -> None:
    client = lab_engine.client()
    assert node_like.labels()[OWNER_LABEL] == lab_engine.id
    assert client.images.get(base_image).labels[OWNER_LABEL] == lab_engine.id
    owned = client.containers.list(
        all=True, filters={"label": f"{OWNER_LABEL}={lab_engine.id}"}
    )
    assert node_like.name in [c.name for c in owned]


def test_kind_availability_reports_this_engines_privileged_refusal(
    lab_engine: LabEngine, base_image: str
) -> None:
    """The reason is runc's own error when the engine refuses --privileged (measured
    here: ``unable to apply caps: operation not permitted``), None when it does not."""
    import docker.errors

    client = lab_engine.client()
    probe = client.containers.create(
        base_image, ["true"], privileged=True, network_mode="none"
    )
    try:
        probe.start()
        measured = None
    except docker.errors.APIError as exc:
        measured = str(exc.explanation)
    finally:
        probe.remove(force=True)
    reason = KindProvider(docker_client=client).unavailable()
    if measured is None:
        assert reason is None
    else:
        assert reason is not None and reason.endswith(measured)
        assert reason.startswith("kind node containers must run --privileged")
    assert not client.containers.list(all=True, filters={"label": "io.cniscrub.probe"})


def engine_leftovers(engine: LabEngine) -> list[str]:
    """Whatever of the engine is still on the machine."""
    left = [f"pid {p}" for p in teardown.processes_marked(engine.id)]
    left += [
        f"cgroup pid {p}"
        for p in teardown.cgroup_processes(engine.record.cgroup_parent)
    ]
    left += [str(p) for p in teardown._cgroup_dirs(engine.record.cgroup_parent)]
    mounts = Path("/proc/self/mountinfo").read_text()
    left += [f"mount under {engine.dir}"] if f" {engine.dir}/" in mounts else []
    left += [f"netns {engine.record.netns}"] * Path(
        "/run/netns", engine.record.netns
    ).exists()
    left += [str(engine.dir)] * engine.dir.exists()
    return left


def test_stop_leaves_nothing_behind(base_image: str) -> None:
    engine = start_engine()
    try:
        run_node_like(engine, engine_base(engine))
        assert engine_leftovers(engine)  # the check sees a running engine
    finally:
        engine.stop()
    assert engine_leftovers(engine) == []


def test_a_crashed_engine_is_collected_completely(base_image: str) -> None:
    engine = start_engine()
    try:
        run_node_like(engine, engine_base(engine))
        assert engine.record.dockerd is not None
        os.kill(engine.record.dockerd.pid, signal.SIGKILL)
        engine.record.lifetime_owner = None  # its owner is "gone"
        engine.record.save(engine.dir / "engine.json")
        assert engine.id in teardown.collect(engine.dir.parent)
        assert engine_leftovers(engine) == []
    finally:
        engine.stop()


def engine_base(engine: LabEngine) -> str:
    from harness.docker_lab.base_image import import_base

    return import_base(engine.client(), {OWNER_LABEL: engine.id})


def test_an_engine_that_cannot_start_says_why_and_leaves_nothing(
    lab_engine: LabEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the fixtures turn into a skip reason: dockerd's own last words."""
    from harness.docker_lab.engine import EngineError

    engine = LabEngine()
    argv = engine.dockerd_argv()
    monkeypatch.setattr(engine, "dockerd_argv", lambda: [*argv, "--no-such-flag"])
    with pytest.raises(
        EngineError, match=r"dockerd exited with \d+ while starting: .*no-such-flag"
    ):
        engine.start(timeout=30)
    assert engine_leftovers(engine) == []
