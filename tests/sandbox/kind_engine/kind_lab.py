"""Helpers for the lab-engine tests: start an engine (or skip with the precise reason),
and run a container shaped like a kind node."""

from __future__ import annotations

import uuid

import pytest

from harness.docker_lab.engine import (
    OWNER_LABEL,
    EngineError,
    LabEngine,
    engine_unavailable,
)
from harness.providers.kind.docker_ops import ContainerOps


def start_engine() -> LabEngine:
    reason = engine_unavailable()
    if reason:
        pytest.skip(reason)
    engine = LabEngine()
    try:
        engine.start()
    except EngineError as exc:
        pytest.skip(f"the lab Docker engine cannot start here: {exc}")
    return engine


def run_node_like(engine: LabEngine, image: str) -> ContainerOps:
    """A container shaped like a kind node: tmpfs /run and /tmp, a volume on /var,
    an init that stops on SIGTERM, no network, our ownership label."""
    name = f"kindlike-{uuid.uuid4().hex[:6]}"
    engine.client().containers.run(
        image,
        ["sleep", "infinity"],
        name=name,
        detach=True,
        init=True,
        tmpfs={"/run": "", "/tmp": ""},
        volumes=["/var"],
        network_mode="none",
        labels={OWNER_LABEL: engine.id, "io.x-k8s.kind.role": "worker"},
    )
    return ContainerOps(engine.client(), name)
