"""The pytest plugin (entry point ``pytest11: cniscrub-harness``).

Options (group ``cniscrub``): ``--provider`` (from the provider registry), ``--nodes``,
``--keep-cluster``, ``--flannel-impl`` (real|emulated: how Flannel images run,
:mod:`harness.realflannel.pytest_option`), ``--flannel-version`` and ``--runtime``
(both repeatable: they restrict every test's matrix, see :mod:`harness.matrix_params`).
Fixtures, typed with the protocols of :mod:`harness.providers.base`:

``provider``         the chosen provider (skips with its ``unavailable()`` reason)
``cluster``          one cluster for the whole session (torn down at the end, even when
                     a test fails or the run is interrupted; kept with --keep-cluster)
``cluster_factory``  makes function-scoped clusters for destructive tests
                     (``cluster_factory_module``: the same, torn down per module)
``sandbox_provider`` the sandbox provider, for tests of the sandbox itself
``flannel_version``, ``runtime``  parametrised from the matrix (``@pytest.mark.matrix``)

Scenario files (``scenarios/*.yaml``) are collected as tests (:mod:`harness.scenario`),
and every scenario's wall time is printed at the end of the run.

A run killed with SIGKILL cannot clean up; sandbox clusters record the pytest process as
their lifetime owner, so ``cniscrub-lab gc`` recognises and removes them.
"""

from __future__ import annotations

import importlib.util
import inspect
import os
import shutil
import signal
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from types import FrameType
from typing import Any

import pytest

from harness import matrix
from harness.matrix_params import parametrize_matrix
from harness.providers import PROVIDERS, ProviderError, make_provider, provider_class
from harness.providers.base import Cluster, ClusterSpec, Provider
from harness.providers.sandbox.state import DEFAULT_HOME, HOME_ENV
from harness.realflannel import pytest_option as flannel_impl
from harness.scenario.collect import pytest_collect_file as collect_scenario_file
from harness.scenario.timing import ScenarioTimes

ClusterFactory = Callable[..., Cluster]
MARKERS = (
    "sandbox: needs root, network namespaces and overlayfs (the sandbox provider)",
    "kind: needs a Docker engine and kind",
    "scenarios: end-to-end uninstall scenarios",
    "destructive: gets a function-scoped cluster of its own",
    "slow: takes more than a few seconds",
    "matrix(flannel_version=..., runtime=...): the values this test runs over "
    "(default: every version / runtime); --flannel-version and --runtime restrict it",
)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("cniscrub", "cniscrub harness")
    flannel_impl.addoption(group)
    group.addoption(
        "--provider",
        default="sandbox",
        choices=sorted(PROVIDERS),
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
        action="append",
        choices=matrix.flannel_versions(),
        help="run only this Flannel version of each test's matrix (repeatable; "
        "default: every version the test declares)",
    )
    group.addoption(
        "--runtime",
        action="append",
        choices=[*matrix.RUNTIMES, *matrix.RUNTIME_ALIASES],
        help="run only this container runtime of each test's matrix (repeatable; "
        "default: every runtime the test declares); with one value, also the "
        "runtime of the session `cluster`",
    )


def pytest_configure(config: pytest.Config) -> None:
    for line in MARKERS:
        config.addinivalue_line("markers", line)
    config.pluginmanager.register(ScenarioTimes(), "cniscrub-scenario-times")
    _lab_home_per_xdist_worker()
    flannel_impl.configure(config)
    if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        signal.signal(signal.SIGTERM, _sigterm_as_interrupt)


def pytest_unconfigure(config: pytest.Config) -> None:
    home = _worker_home()
    is_worker = hasattr(config, "workerinput")  # not a pytester run inside a worker
    if home is not None and is_worker and not _keep(config):
        clusters = home / "clusters"
        if not clusters.is_dir() or not any(clusters.iterdir()):
            shutil.rmtree(home, ignore_errors=True)


def _worker_home() -> Path | None:
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    home = os.environ.get(HOME_ENV, "")
    return Path(home) if worker and home.endswith(f"-{worker}") else None


def _lab_home_per_xdist_worker() -> None:
    """Under pytest-xdist (``-n 2``) each worker gets its own sandbox state root, the
    chosen one plus ``-gwN``: two workers' clusters, images and ``gc`` never meet.
    Subprocesses (``cniscrub-lab``) inherit it. The root goes at the worker's end
    unless it still holds clusters (``--keep-cluster``)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker and _worker_home() is None:
        home = os.environ.get(HOME_ENV) or str(DEFAULT_HOME)
        os.environ[HOME_ENV] = f"{home.rstrip('/')}-{worker}"


def pytest_report_header(config: pytest.Config) -> str:
    return flannel_impl.header(config)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    parametrize_matrix(metafunc)


def pytest_collect_file(
    file_path: Path, parent: pytest.Collector
) -> pytest.Collector | None:
    """``scenarios/*.yaml`` files are tests (:mod:`harness.scenario.collect`)."""
    return collect_scenario_file(file_path, parent)


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    """The random order's seed, even under ``-q`` (which hides pytest-randomly's
    header line): a failure seen in one order can be replayed."""
    seed = getattr(config.option, "randomly_seed", None)
    if config.pluginmanager.hasplugin("randomly") and isinstance(seed, int):
        terminalreporter.write_line(
            f"random test order: --randomly-seed={seed} replays it "
            "(-p no:randomly: file order)"
        )


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


# pytest-kind's options (when it is installed) -> the kind provider's parameters
PYTEST_KIND_OPTIONS = {
    "kind_bin": "kind_bin",
    "kind_kubectl_bin": "kubectl_bin",
    "kind_image": "kind_image",
}


def provider_options(config: pytest.Config) -> dict[str, Any]:
    """Options for any provider from the command line: pytest-kind's flags, given."""
    found = {
        ours: config.getoption(theirs, default=None)
        for theirs, ours in PYTEST_KIND_OPTIONS.items()
    }
    return {k: v for k, v in found.items() if v is not None}


def open_provider(
    name: str, keep: bool, extra: dict[str, Any] | None = None
) -> Provider:
    """The named provider, skipping the test with its reason where it cannot run;
    ``extra`` options reach only providers whose constructor takes them."""
    options: dict[str, Any] = {
        "lifetime_owner": None if keep else os.getpid(),
        **(extra or {}),
    }
    try:
        accepted = inspect.signature(provider_class(name)).parameters
        provider = make_provider(
            name, **{k: v for k, v in options.items() if k in accepted}
        )
    except ProviderError as exc:
        pytest.fail(str(exc), pytrace=False)
    reason = provider.unavailable()
    if reason:
        pytest.skip(f"provider {name}: {reason}")
    return provider


def _keep(config: pytest.Config) -> bool:
    return bool(config.getoption("keep_cluster", default=False))


@pytest.fixture(scope="session")
def provider(request: pytest.FixtureRequest) -> Provider:
    config = request.config
    return open_provider(
        config.getoption("provider"), _keep(config), provider_options(config)
    )


@pytest.fixture(scope="session")
def sandbox_provider(request: pytest.FixtureRequest) -> Provider:
    return open_provider("sandbox", _keep(request.config))


@pytest.fixture(scope="session")
def _session_clusters(
    request: pytest.FixtureRequest, provider: Provider
) -> Iterator[ClusterFactory]:
    yield from _factory(request, provider)


@pytest.fixture
def cluster_factory(
    request: pytest.FixtureRequest, provider: Provider
) -> Iterator[ClusterFactory]:
    yield from _factory(request, provider)


@pytest.fixture(scope="module")
def cluster_factory_module(
    request: pytest.FixtureRequest, provider: Provider
) -> Iterator[ClusterFactory]:
    yield from _factory(request, provider)


@pytest.fixture(scope="session")
def cluster(
    request: pytest.FixtureRequest, _session_clusters: ClusterFactory
) -> Cluster:
    runtimes = request.config.getoption("runtime") or [matrix.DEFAULT_RUNTIME]
    runtime = matrix.runtime_name(runtimes[0]) if len(runtimes) == 1 else None
    extra = {"runtime": runtime} if runtime else {}
    return _session_clusters(nodes=request.config.getoption("nodes"), **extra)


def _factory(
    request: pytest.FixtureRequest, provider: Provider
) -> Iterator[ClusterFactory]:
    made: list[str] = []
    keep = _keep(request.config)
    creator = os.getpid()

    def make(nodes: int = 3, name: str | None = None, **kw: Any) -> Cluster:
        name = name or f"pt-{uuid.uuid4().hex[:6]}"
        made.append(name)
        return provider.create(ClusterSpec(name=name, nodes=nodes, **kw))

    try:
        yield make
    finally:
        if not keep and os.getpid() == creator:  # never from a forked copy
            for name in made:
                provider.delete(name)
