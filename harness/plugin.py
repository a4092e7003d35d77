"""The pytest plugin (entry point ``pytest11: cniscrub-harness``).

Options (group ``cniscrub``): ``--provider`` (sandbox|kind), ``--nodes``,
``--keep-cluster``, ``--flannel-version``, ``--runtime``. Fixtures:

``cluster``          one cluster for the whole session (torn down at the end, even when
                     a test fails or the run is interrupted; kept with --keep-cluster)
``cluster_factory``  makes function-scoped clusters for destructive tests
                     (``cluster_factory_module``: the same, torn down per module)
``sandbox_provider`` the provider itself

A run killed with SIGKILL cannot clean up; its clusters record the pytest process as
their lifetime owner, so ``cniscrub-lab gc`` recognises and removes them.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import signal
import uuid
from collections.abc import Callable, Iterator
from types import FrameType

import pytest

from harness.providers.base import ClusterSpec
from harness.providers.sandbox.image import check_plugins
from harness.providers.sandbox.provider import SandboxCluster, SandboxProvider
from harness.providers.sandbox.state import SandboxError

FLANNEL_VERSIONS = ("v0.24.4", "v0.26.7", "v0.27.3", "v0.28.9")
ClusterFactory = Callable[..., SandboxCluster]


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("cniscrub", "cniscrub harness")
    group.addoption(
        "--provider",
        default="sandbox",
        choices=["sandbox"],  # kind: the next provider, behind the same interface
        help="where clusters come from (default: sandbox)",
    )
    group.addoption(
        "--nodes", type=int, default=3, help="nodes per cluster (default 3)"
    )
    if importlib.util.find_spec("pytest_kind") is None:
        # pytest-kind, when installed, defines the same flag with the same meaning
        group.addoption(
            "--keep-cluster",
            action="store_true",
            dest="keep_cluster",
            help="leave clusters running after the session",
        )
    group.addoption(
        "--flannel-version",
        default="v0.27.3",
        choices=FLANNEL_VERSIONS,
        help="Flannel manifest version to install (default v0.27.3)",
    )
    group.addoption(
        "--runtime",
        default="containerd-1.7",
        choices=[
            "containerd-1.7",
            "containerd-1.6",
            "containerd-1.5",
            "crio",
            "dockershim",
        ],
        help="container runtime whose CNI behaviour is emulated",
    )


def pytest_configure(config: pytest.Config) -> None:
    for line in (
        "sandbox: needs root, network namespaces and overlayfs (the sandbox provider)",
        "kind: needs a Docker engine and kind",
        "scenarios: end-to-end uninstall scenarios",
        "destructive: gets a function-scoped cluster of its own",
        "slow: takes more than a few seconds",
    ):
        config.addinivalue_line("markers", line)
    if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        signal.signal(signal.SIGTERM, _sigterm_as_interrupt)


_MAIN_PID = os.getpid()


def _sigterm_as_interrupt(signum: int, frame: FrameType | None) -> None:
    """Let pytest run fixture finalizers on SIGTERM, in the main process only.

    Libraries fork (pyroute2 does, for network namespaces); a forked copy that is
    terminated must simply die, never run the session's teardown.
    """
    if os.getpid() != _MAIN_PID:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGTERM)
        return
    raise KeyboardInterrupt("SIGTERM")


def sandbox_unavailable() -> str | None:
    """Why the sandbox provider cannot run here, or None."""
    if os.geteuid() != 0:
        return "sandbox nodes need root (network namespaces, overlayfs)"
    for tool in ("unshare", "nsenter", "ip", "iptables"):
        if shutil.which(tool) is None:
            return f"`{tool}` is not installed (apt-get install util-linux iproute2 iptables)"
    try:
        check_plugins()
    except SandboxError as exc:
        return str(exc)
    return None


@pytest.fixture(scope="session")
def sandbox_provider() -> SandboxProvider:
    reason = sandbox_unavailable()
    if reason:
        pytest.skip(reason)
    from harness.emulation.controlplane.hook import install

    provider = SandboxProvider()
    install(provider)
    return provider


@pytest.fixture(scope="session")
def _session_clusters(
    request: pytest.FixtureRequest, sandbox_provider: SandboxProvider
) -> Iterator[ClusterFactory]:
    yield from _factory(request, sandbox_provider)


@pytest.fixture
def cluster_factory(
    request: pytest.FixtureRequest, sandbox_provider: SandboxProvider
) -> Iterator[ClusterFactory]:
    yield from _factory(request, sandbox_provider)


@pytest.fixture(scope="module")
def cluster_factory_module(
    request: pytest.FixtureRequest, sandbox_provider: SandboxProvider
) -> Iterator[ClusterFactory]:
    yield from _factory(request, sandbox_provider)


@pytest.fixture(scope="session")
def cluster(
    request: pytest.FixtureRequest, _session_clusters: ClusterFactory
) -> SandboxCluster:
    return _session_clusters(nodes=request.config.getoption("nodes"))


def _factory(
    request: pytest.FixtureRequest, provider: SandboxProvider
) -> Iterator[ClusterFactory]:
    made: list[str] = []
    keep = bool(request.config.getoption("keep_cluster", default=False))
    creator = os.getpid()

    def make(nodes: int = 3, name: str | None = None, **kw: object) -> SandboxCluster:
        name = name or f"pt-{uuid.uuid4().hex[:6]}"
        spec = ClusterSpec(name=name, nodes=nodes, **kw)  # type: ignore[arg-type]
        made.append(name)
        return provider.create(spec, lifetime_owner=None if keep else os.getpid())

    try:
        yield make
    finally:
        if not keep and os.getpid() == creator:  # never from a forked copy
            for name in made:
                provider.delete(name)
