"""Fixtures for the Kubernetes API stand-in tests: a server on 127.0.0.1 (always
stopped), its kubeconfig, a kubectl runner and an official-client ApiClient."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from kubernetes import client, config

from harness.emulation.apiserver.kubeconfig import find_kubectl, write_kubeconfig
from harness.emulation.apiserver.threaded import ThreadedServer

DATA = Path(__file__).parent / "data"
FLANNEL_MANIFEST = DATA / "kube-flannel.yml"

KubectlRunner = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def apiserver() -> Iterator[ThreadedServer]:
    server = ThreadedServer("127.0.0.1", 0).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def kubeconfig(apiserver: ThreadedServer, tmp_path: Path) -> Path:
    return write_kubeconfig(tmp_path / "kubeconfig", apiserver.url, "standin-test")


@pytest.fixture
def kubectl(
    kubeconfig: Path, tmp_path_factory: pytest.TempPathFactory
) -> KubectlRunner:
    binary = find_kubectl()
    if binary is None:
        pytest.skip(
            "kubectl not found: neither $KUBECTL (executable) nor kubectl on PATH"
        )
    cache = tmp_path_factory.mktemp("kubectl-cache")
    env = {**os.environ, "KUBECONFIG": str(kubeconfig), "KUBECACHEDIR": str(cache)}

    def run(
        *args: str, check: bool = True, timeout: float = 30, input: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(
            [binary, *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            input=input,
            check=False,
        )
        if check and proc.returncode != 0:
            raise AssertionError(
                f"kubectl {' '.join(args)} -> rc={proc.returncode}\n"
                f"stdout: {proc.stdout}\nstderr: {proc.stderr}"
            )
        return proc

    run.binary = binary  # type: ignore[attr-defined]
    run.env = env  # type: ignore[attr-defined]
    return run


@pytest.fixture
def api_client(kubeconfig: Path) -> Iterator[client.ApiClient]:
    api = config.new_client_from_config(config_file=str(kubeconfig))
    try:
        yield api
    finally:
        api.close()
