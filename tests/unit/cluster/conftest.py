"""Fixtures of the ``cniscrub cluster`` unit tests: a fake in-process cluster (always
stopped) and a runner of the ``cniscrub`` command line against it."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from cniscrub.cli.main import main
from tests.unit.cluster.fake_cluster import FakeCluster


@dataclass
class Result:
    rc: int
    doc: dict[str, Any]
    out: str
    err: str


@pytest.fixture
def fake(tmp_path: Path) -> Iterator[FakeCluster]:
    cluster = FakeCluster(tmp_path, nodes=3)
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def cli(
    fake: FakeCluster,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> Callable[..., Result]:
    monkeypatch.setenv("KUBECONFIG", str(fake.kubeconfig))

    def run(*args: str) -> Result:
        rc = main(["cluster", *args])
        captured = capsys.readouterr()
        doc = json.loads(captured.out) if "--json" in args else {}
        if doc:
            assert doc["exit_code"] == rc
        return Result(rc, doc, captured.out, captured.err)

    return run
