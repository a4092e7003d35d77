"""Why kind cannot run, in the engine's own words: the docker SDK's connection error,
or runc's refusal of privileged containers (measured on this project's machines:
``unable to apply caps: operation not permitted``); the probe cleans up after itself."""

from __future__ import annotations

from typing import Any

import docker.errors
import pytest

from harness.providers.kind import availability

CAPS = (
    "failed to create shim task: OCI runtime create failed: runc create failed: unable "
    "to start container process: unable to apply caps: operation not permitted: unknown"
)
MISSING = (
    'exec: "/cniscrub-probe": stat /cniscrub-probe: no such file or directory: unknown'
)


class ProbeClient:
    """Records the probe's calls; its privileged start fails with ``error``."""

    def __init__(self, error: str) -> None:
        self.error, self.calls = error, []  # type: list[tuple[Any, ...]]
        self.api, self.containers, self.images = self, self, self

    def import_image_from_data(self, data: bytes, **kw: Any) -> None:
        self.calls.append(("import", kw["repository"]))

    def create(self, image: str, cmd: list[str], **kw: Any) -> ProbeClient:
        self.calls.append(("create", image, cmd, kw["privileged"]))
        return self

    def start(self) -> None:
        raise docker.errors.APIError("500", explanation=self.error)

    def remove(self, *args: Any, **kw: Any) -> None:
        self.calls.append(("remove", *args))


def test_refused_privileged_is_reported_with_runcs_error() -> None:
    probe = ProbeClient(CAPS)
    reason = availability.privileged_refused(probe)
    assert reason is not None and reason.endswith(
        "unable to apply caps: operation not permitted: unknown"
    )
    assert reason.startswith("kind node containers must run --privileged")
    assert [c[0] for c in probe.calls] == ["import", "create", "remove", "remove"]
    assert probe.calls[1][3] is True


def test_a_missing_command_means_privileged_works() -> None:
    probe = ProbeClient(MISSING)
    assert availability.privileged_refused(probe) is None
    assert [c[0] for c in probe.calls][-2:] == ["remove", "remove"]


def test_no_engine_gives_the_sdks_error_and_where(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    client, reason = availability.engine_error(docker.from_env)
    assert client is None and reason is not None
    assert reason.startswith(
        "no Docker engine reachable at unix:///nonexistent/docker.sock: "
    )
    assert "No such file or directory" in reason  # the SDK's own words
