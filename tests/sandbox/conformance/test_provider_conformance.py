"""Every provider keeps the promises of ``harness.providers.base`` (conformance).

Parametrised by provider name over the registry: a provider that cannot run here is
skipped with its ``unavailable()`` reason, one whose package is not written yet with the
import error. One small cluster per provider (control plane included, a short
node-monitor grace period so power-off shows as NotReady quickly) serves the tests; the
tests that reboot or power a node off leave it running again.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from testinfra.host import Host

from cniscrub import __version__
from harness.kube import find_kubectl, kubectl_json
from harness.providers import PROVIDERS, ProviderError, make_provider
from harness.providers.base import (
    Cluster,
    ClusterSpec,
    CommandError,
    CommandResult,
    Node,
    NodeNotRunning,
    Provider,
)
from harness.wait import until

pytestmark = pytest.mark.sandbox
GRACE = 3.0  # --node-monitor-grace-period of the test cluster (default 50 s)


@pytest.fixture(scope="module", params=sorted(PROVIDERS))
def subject(request: pytest.FixtureRequest) -> Iterator[tuple[Provider, Cluster]]:
    name = request.param
    try:
        provider = make_provider(name)
    except ProviderError as exc:
        if isinstance(exc.__cause__, ModuleNotFoundError):
            pytest.skip(f"provider {name} is not built yet: {exc}")
        raise
    reason = provider.unavailable()
    if reason:
        pytest.skip(f"provider {name}: {reason}")
    if find_kubectl() is None:
        pytest.skip("kubectl not found (scripts/bootstrap.sh installs it)")
    spec = ClusterSpec(
        name=f"pt-conf-{uuid.uuid4().hex[:4]}", nodes=2, node_monitor_grace_period=GRACE
    )
    cluster = provider.create(spec)
    try:
        yield provider, cluster
    finally:
        provider.delete(spec.name)


@pytest.fixture
def worker(subject: tuple[Provider, Cluster]) -> Node:
    node = subject[1].nodes[1]
    node.exec(["true"])  # running (a failed test may have left it off: start it)
    return node


def test_objects_implement_the_protocols(subject: tuple[Provider, Cluster]) -> None:
    provider, cluster = subject
    assert isinstance(provider, Provider)
    assert isinstance(cluster, Cluster)
    assert all(isinstance(n, Node) for n in cluster.nodes)
    assert [n.role for n in cluster.nodes] == ["control-plane", "worker"]
    assert cluster.node(cluster.nodes[1].name) is cluster.nodes[1]
    assert cluster.name in provider.list_clusters()
    assert [n.name for n in provider.get(cluster.name).nodes] == [
        n.name for n in cluster.nodes
    ]
    assert cluster.kubeconfig is not None and cluster.kubeconfig.exists()


def test_exec_results_errors_input_and_timeout(worker: Node) -> None:
    res = worker.exec(["sh", "-c", "cat; echo err >&2"], input="in\n")
    assert isinstance(res, CommandResult)
    assert (res.rc, res.stdout, res.stderr) == (0, "in\n", "err\n")
    assert worker.exec(["hostname"]).stdout.strip() == worker.name
    assert worker.exec(["sh", "-c", "exit 3"], check=False).rc == 3
    with pytest.raises(CommandError) as err:
        worker.exec(["sh", "-c", "exit 4"])
    assert err.value.result.rc == 4
    with pytest.raises(CommandError, match="timed out"):
        worker.exec(["sleep", "30"], timeout=0.5)


def test_files_and_the_testinfra_host(worker: Node) -> None:
    worker.write_file("/etc/cniscrub-conf/probe.conf", "one\n", mode=0o600)
    assert worker.read_file("/etc/cniscrub-conf/probe.conf") == b"one\n"
    with pytest.raises(FileNotFoundError):
        worker.read_file("/etc/cniscrub-conf/absent")
    host = worker.host
    assert isinstance(host, Host)
    probe = host.file("/etc/cniscrub-conf/probe.conf")
    assert probe.exists and probe.mode == 0o600
    assert host.interface("eth0").exists
    worker.exec(["rm", "-rf", "/etc/cniscrub-conf"])


def test_reboot_loses_run_links_and_processes_keeps_disk(worker: Node) -> None:
    worker.write_file("/run/flannel/subnet.env", "FLANNEL_NETWORK=10.244.0.0/16\n")
    worker.write_file("/var/lib/cni/networks/cbr0/last_reserved_ip.0", "10.244.1.9")
    worker.exec(["ip", "link", "add", "conf0", "type", "bridge"])
    worker.reboot()
    assert not worker.host.file("/run/flannel/subnet.env").exists
    assert not worker.host.interface("conf0").exists
    assert worker.read_file("/var/lib/cni/networks/cbr0/last_reserved_ip.0")
    worker.exec(["rm", "-rf", "/var/lib/cni/networks/cbr0"])


def _ready(cluster: Cluster, node: Node) -> str:
    obj = kubectl_json(cluster, "get", "node", node.name)
    cond = next(c for c in obj["status"]["conditions"] if c["type"] == "Ready")
    return f"{cond['status']}/{cond['reason']}"


def test_stop_powers_off_and_start_boots(
    subject: tuple[Provider, Cluster], worker: Node
) -> None:
    cluster = subject[1]
    worker.write_file("/etc/cniscrub-conf/kept", "disk\n")
    worker.write_file("/run/lost", "tmpfs\n")
    worker.exec(["sh", "-c", "sleep 600 >/dev/null 2>&1 &"])
    worker.stop()
    try:
        with pytest.raises(NodeNotRunning):
            worker.exec(["true"])
        # the kubelet is off too: after the grace period the control plane notices
        until(
            lambda: _ready(cluster, worker) == "Unknown/NodeStatusUnknown",
            timeout=GRACE + 45,  # bounded; generous for a loaded machine
            what=f"{worker.name} NotReady after the node-monitor grace period",
        )
        worker.stop()  # idempotent
    finally:
        worker.start()
    assert worker.read_file("/etc/cniscrub-conf/kept") == b"disk\n"
    assert not worker.host.file("/run/lost").exists
    assert "sleep" not in worker.exec(["ps", "-eo", "comm="]).stdout.split()
    until(
        lambda: _ready(cluster, worker) != "Unknown/NodeStatusUnknown",
        timeout=90,
        what=f"{worker.name}'s kubelet posting status again",
    )
    worker.start()  # idempotent
    worker.exec(["rm", "-rf", "/etc/cniscrub-conf"])


def test_run_cleaner_runs_the_shipped_cleaner_inside_the_node(
    subject: tuple[Provider, Cluster], worker: Node
) -> None:
    cluster = subject[1]
    version = cluster.run_cleaner(worker, ["--version"])
    assert version.rc == 0 and version.stdout.strip() == f"cniscrub {__version__}"
    flannel_conf = '{"name": "cbr0", "plugins": [{"type": "flannel"}]}'
    worker.write_file("/etc/cni/net.d/10-flannel.conflist", flannel_conf)
    try:
        plan = cluster.run_cleaner(worker, ["plan", "--cni", "flannel", "--json"])
        assert plan.rc == 2, plan.stderr  # residue on this node only: it ran there
        other = cluster.run_cleaner(
            cluster.nodes[0], ["plan", "--cni", "flannel", "--json"]
        )
        assert other.rc == 0, other.stdout
    finally:
        worker.exec(["rm", "-f", "/etc/cni/net.d/10-flannel.conflist"])
    usage = cluster.run_cleaner(worker, ["plan", "--no-such-flag"])
    assert usage.rc == 4  # a failing run is a result, never an exception


def test_delete_is_idempotent(subject: tuple[Provider, Cluster]) -> None:
    provider = subject[0]
    provider.delete("pt-conf-never-made")
    assert "pt-conf-never-made" not in provider.list_clusters()
