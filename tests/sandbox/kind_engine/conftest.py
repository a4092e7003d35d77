"""A real Docker engine for the kind provider's Docker layer: Debian's dockerd started
inside a network namespace the harness creates, with its base image imported from the
cached debootstrap root filesystem. Skips with the precise reason when it cannot start.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from kind_lab import run_node_like, start_engine

from harness.docker_lab.base_image import BaseImageError, import_base
from harness.docker_lab.engine import OWNER_LABEL, LabEngine
from harness.providers.kind.docker_ops import ContainerOps


@pytest.fixture(scope="session")
def lab_engine() -> Iterator[LabEngine]:
    engine = start_engine()
    try:
        yield engine
    finally:
        engine.stop()


@pytest.fixture(scope="session")
def base_image(lab_engine: LabEngine) -> str:
    try:
        return import_base(lab_engine.client(), {OWNER_LABEL: lab_engine.id})
    except BaseImageError as exc:
        pytest.skip(f"no base image for the lab engine: {exc}")


@pytest.fixture
def node_like(lab_engine: LabEngine, base_image: str) -> Iterator[ContainerOps]:
    ops = run_node_like(lab_engine, base_image)
    try:
        yield ops
    finally:
        ops.container().remove(force=True, v=True)
