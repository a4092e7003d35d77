"""The pytest plugin and the provider registry (pytester): options and markers, the
``--provider`` choices from the registry, clear errors for unknown or unimportable
providers, the skip reason of an unavailable one, cluster fixtures torn down through
the protocol, and the Flannel-version / runtime matrix fed by the options."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from harness import matrix
from harness.providers import PROVIDERS, ProviderError, make_provider

FAKE_PROVIDER = """
import json, os
from pathlib import Path
from harness.providers.base import ClusterSpec

LOG = Path(os.environ["FAKE_LOG"])

def log(*event):
    with LOG.open("a") as fh:
        fh.write(json.dumps(event) + "\\n")

class FakeCluster:
    def __init__(self, spec):
        self.name, self.nodes, self.kubeconfig = spec.name, [], None
        self.state_dir = Path("/nonexistent")
        self.spec = spec
    def node(self, name): raise LookupError(name)
    def run_cleaner(self, node, argv, *, timeout=300.0): raise NotImplementedError

class FakeProvider:
    name = "fake"
    def __init__(self, lifetime_owner=None):
        log("init", lifetime_owner is not None)
    def unavailable(self):
        return os.environ.get("FAKE_UNAVAILABLE") or None
    def create(self, spec):
        log("create", spec.name, spec.nodes, spec.runtime)
        return FakeCluster(spec)
    def get(self, name): raise LookupError(name)
    def list_clusters(self): return []
    def delete(self, name):
        log("delete", name)
"""


@pytest.fixture
def fake(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Path:
    """A provider registered as ``fake`` that logs what the fixtures ask of it."""
    pytester.makepyfile(fakeprov=FAKE_PROVIDER)
    pytester.syspathinsert()
    monkeypatch.setitem(PROVIDERS, "fake", "fakeprov:FakeProvider")
    log = tmp_path / "fake.log"
    monkeypatch.setenv("FAKE_LOG", str(log))
    return log


def test_options_and_markers_are_registered(pytester: pytest.Pytester) -> None:
    out = pytester.runpytest_subprocess("--help").stdout.str()
    for option in (
        "--provider",
        "--nodes",
        "--keep-cluster",
        "--flannel-version",
        "--runtime",
    ):
        assert option in out, option
    assert "{kind,sandbox}" in out  # --provider choices: the registry's names
    markers = pytester.runpytest_subprocess("--markers").stdout.str()
    assert "@pytest.mark.sandbox: needs root" in markers
    assert "@pytest.mark.scenarios:" in markers
    assert "@pytest.mark.matrix(flannel_version=..., runtime=...)" in markers


def test_unknown_provider_names_the_known_ones() -> None:
    with pytest.raises(ProviderError, match=r"unknown provider 'nope' \(known: "):
        make_provider("nope")


def test_unimportable_provider_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(PROVIDERS, "ghost", "harness.providers.ghost.provider:Ghost")
    with pytest.raises(ProviderError) as err:
        make_provider("ghost")
    text = str(err.value)
    assert (
        "provider 'ghost' is registered as harness.providers.ghost.provider:Ghost"
        in text
    )
    assert "cannot be imported: ModuleNotFoundError" in text


def test_sandbox_reason_names_the_missing_plugins(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("CNISCRUB_LAB_CNI_PLUGINS", str(tmp_path))
    reason = make_provider("sandbox").unavailable()
    if reason and reason.startswith("sandbox nodes need root"):
        pytest.skip("not root: the plugin check comes after the root check")
    assert reason is not None
    assert "apt-get install containernetworking-plugins" in reason


def test_unavailable_provider_skips_with_its_reason(
    pytester: pytest.Pytester, fake: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_UNAVAILABLE", "no Docker engine at /run/docker.sock")
    pytester.makepyfile("def test_x(cluster):\n    pass\n")
    result = pytester.runpytest("--provider", "fake", "-rs", "-p", "no:randomly")
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(
        ["*provider fake: no Docker engine at /run/docker.sock*"]
    )


def test_cluster_fixtures_create_and_delete_through_the_protocol(
    pytester: pytest.Pytester, fake: Path
) -> None:
    pytester.makepyfile(
        textwrap.dedent(
            """
            def test_session(cluster):
                assert cluster.spec.nodes == 2
            def test_factory(cluster_factory):
                assert cluster_factory(nodes=1, name="one").name == "one"
            """
        )
    )
    result = pytester.runpytest(
        "--provider", "fake", "--nodes", "2", "--runtime", "crio", "-p", "no:randomly"
    )
    result.assert_outcomes(passed=2)
    events = fake.read_text().splitlines()
    assert '["init", true]' in events  # owned by this run (gc finds the remains)
    assert '["create", "one", 1, "containerd-1.7"]' in events
    created = [e for e in events if e.startswith('["create"')]
    session = next(e for e in created if '"one"' not in e)
    assert session.endswith(', 2, "crio"]')  # one --runtime: the session cluster's
    assert '["delete", "one"]' in events
    assert sum(e.startswith('["delete"') for e in events) == 2


def test_keep_cluster_creates_unowned_clusters_and_keeps_them(
    pytester: pytest.Pytester, fake: Path
) -> None:
    pytester.makepyfile("def test_x(cluster):\n    pass\n")
    pytester.runpytest("--provider", "fake", "--keep-cluster").assert_outcomes(passed=1)
    events = fake.read_text().splitlines()
    assert '["init", false]' in events
    assert not [e for e in events if e.startswith('["delete"')]


MATRIX_TESTS = """
import pytest

def test_every_version(flannel_version):
    pass

@pytest.mark.matrix(flannel_version=["v0.24.4"], runtime=["crio", "dockershim"])
def test_declared(flannel_version, runtime):
    pass

@pytest.mark.parametrize("runtime", ["mine"])
def test_explicit_parametrize_wins(runtime):
    assert runtime == "mine"
"""


def _collected(result: pytest.RunResult) -> list[str]:
    return sorted(
        line.split("::")[1].strip()
        for line in result.outlines
        if "::" in line and "test_" in line
    )


def test_matrix_defaults_to_every_manifest_version(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(MATRIX_TESTS)
    ids = _collected(pytester.runpytest("--collect-only", "-q"))
    versions = matrix.flannel_versions()
    assert [i for i in ids if i.startswith("test_every")] == sorted(
        f"test_every_version[{v}]" for v in versions
    )
    assert "test_declared[v0.24.4-crio]" in ids
    assert "test_declared[v0.24.4-dockershim]" in ids
    assert "test_explicit_parametrize_wins[mine]" in ids


def test_options_restrict_the_matrix(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(MATRIX_TESTS)
    result = pytester.runpytest(
        "--flannel-version", "v0.27.3", "--runtime", "crio", "-rs", "-p", "no:randomly"
    )
    result.assert_outcomes(passed=2, skipped=1)
    result.stdout.fnmatch_lines(
        ["*--flannel-version v0.27.3 is outside this test's matrix (v0.24.4)*"]
    )
    ids = _collected(
        pytester.runpytest("--collect-only", "-q", "--runtime", "containerd")
    )
    assert ids == sorted(
        [
            *(f"test_every_version[{v}]" for v in matrix.flannel_versions()),
            "test_declared[v0.24.4-excluded]",
            "test_explicit_parametrize_wins[mine]",
        ]
    )


def test_random_order_seed_is_printed_even_with_q(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_a():\n    pass\n")
    result = pytester.runpytest("-q", "-p", "randomly", "--randomly-seed=7")
    result.stdout.fnmatch_lines(["random test order: --randomly-seed=7 replays it*"])


def test_each_xdist_worker_gets_its_own_lab_home(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from harness import plugin

    monkeypatch.setenv("CNISCRUB_LAB_HOME", str(tmp_path / "lab"))
    monkeypatch.delenv("PYTEST_XDIST_WORKER", raising=False)
    plugin._lab_home_per_xdist_worker()
    assert plugin._worker_home() is None  # no xdist: the chosen home, unchanged
    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw1")
    plugin._lab_home_per_xdist_worker()
    plugin._lab_home_per_xdist_worker()  # once only, never "-gw1-gw1"
    assert plugin._worker_home() == tmp_path / "lab-gw1"
    monkeypatch.delenv("CNISCRUB_LAB_HOME")
    plugin._lab_home_per_xdist_worker()
    assert plugin._worker_home() == Path("/run/cniscrub-lab-gw1")
