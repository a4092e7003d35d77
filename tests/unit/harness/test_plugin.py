"""The pytest plugin registers its options and markers and skips sandbox fixtures with a
precise reason where they cannot run (tested with pytester)."""

from __future__ import annotations

import pytest

from harness.plugin import sandbox_unavailable


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
    markers = pytester.runpytest_subprocess("--markers").stdout.str()
    assert "@pytest.mark.sandbox: needs root" in markers
    assert "@pytest.mark.scenarios:" in markers


def test_sandbox_reason_names_the_missing_plugins(
    monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("CNISCRUB_LAB_CNI_PLUGINS", str(tmp_path))
    reason = sandbox_unavailable()
    if reason and reason.startswith("sandbox nodes need root"):
        pytest.skip("not root: the plugin check comes after the root check")
    assert reason is not None
    assert "apt-get install containernetworking-plugins" in reason


def test_state_home_refuses_overlaid_directories(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from harness.providers.sandbox.state import SandboxError, state_home

    monkeypatch.setenv("CNISCRUB_LAB_HOME", "/var/lib/lab")
    with pytest.raises(SandboxError, match="outside /etc, /opt and /var"):
        state_home()
