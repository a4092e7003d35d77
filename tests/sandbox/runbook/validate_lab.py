"""Helpers of the runbook validation tests: each module validates one runbook once (a module-scoped
fixture running ``cniscrub-lab validate`` in-process) and its tests read that result,
so they pass alone and in any order without paying for a cluster each."""

from __future__ import annotations

import io
import json
import os
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from harness.cli.main import main
from harness.kube import find_kubectl

ROOT = Path(__file__).resolve().parents[3]
RUNBOOKS = ROOT / "fixtures" / "runbooks"
# screenshots and reports kept after the run (CI can collect them)
ARTIFACTS = Path(
    os.environ.get("CNISCRUB_TEST_ARTIFACTS", ROOT / "build" / "test-artifacts")
)


@dataclass
class Validated:
    rc: int
    doc: dict[str, Any]
    report: Path
    progress: str

    def step(self, number: int) -> dict[str, Any]:
        found: dict[str, Any] = self.doc["steps"][number - 1]
        assert found["number"] == number
        return found

    @property
    def nodes(self) -> list[str]:
        names: list[str] = self.doc["setup"]["nodes"]
        return names


def validate(runbook: Path, tmp: Path, *extra: str) -> Validated:
    """``cniscrub-lab validate RUNBOOK --json --report …`` in this process."""
    if os.geteuid() != 0:
        pytest.skip("sandbox clusters need root")
    if find_kubectl() is None:
        pytest.skip(
            "kubectl not found on PATH or $KUBECTL (scripts/bootstrap.sh installs it)"
        )
    report = tmp / "report.html"
    out, err = io.StringIO(), io.StringIO()
    name = f"rb{os.getpid() % 100000}-{runbook.stem[:12]}".rstrip("-_.")
    argv = ["validate", str(runbook), "--json", "--report", str(report), "--name", name]
    with redirect_stdout(out), redirect_stderr(err):
        rc = main([*argv, *extra])
    assert out.getvalue().strip(), f"no JSON document; stderr:\n{err.getvalue()}"
    return Validated(rc, json.loads(out.getvalue()), report, err.getvalue())
