"""Fixtures: a KindProvider wired to a fake docker client and a recording kind/kubectl
world (pytest-kind's own subprocess calls included); nothing touches a real engine."""

from __future__ import annotations

from pathlib import Path

import pytest
import pytest_kind.cluster
from kind_fakes import FakeDocker, KindWorld, PytestKindSubprocess

from harness.providers.kind.cni import REFERENCE_PLUGINS
from harness.providers.kind.provider import KindProvider


@pytest.fixture
def fake_docker() -> FakeDocker:
    return FakeDocker()


@pytest.fixture
def world(fake_docker: FakeDocker, monkeypatch: pytest.MonkeyPatch) -> KindWorld:
    world = KindWorld(fake_docker)
    monkeypatch.setattr(pytest_kind.cluster, "subprocess", PytestKindSubprocess(world))
    return world


@pytest.fixture
def tools(tmp_path: Path) -> Path:
    """A kind binary, a kubectl and a reference CNI plugin directory (fakes)."""
    bin_dir = tmp_path / "tools"
    (bin_dir / "cni").mkdir(parents=True)
    for name in ("kind", "kubectl"):
        (bin_dir / name).write_text("#!/bin/sh\n")
    for name in REFERENCE_PLUGINS:
        (bin_dir / "cni" / name).write_bytes(f"ELF {name}".encode())
    return bin_dir


@pytest.fixture
def provider(
    tmp_path: Path, tools: Path, world: KindWorld, fake_docker: FakeDocker
) -> KindProvider:
    return KindProvider(
        kind_bin=str(tools / "kind"),
        kubectl_bin=str(tools / "kubectl"),
        cni_plugins=tools / "cni",
        cleaner_image="cniscrub:test",
        workdir=tmp_path / "work",
        docker_client=fake_docker,
        runner=world,
    )
