"""Helpers for the sandbox provider tests."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from harness.providers.sandbox.teardown import (
    NAMESPACE_KINDS,
    marked_processes,
    namespaces_of,
)


def cluster_footprint(cluster: Any) -> dict[str, object]:
    """Everything a cluster holds on the machine, by ownership."""
    pids = [pid for pid, cid in marked_processes().items() if cid == cluster.id]
    return {
        "pids": pids,
        "namespaces": namespaces_of(pids),
        "state_dir": cluster.state_dir,
    }


@pytest.fixture
def footprint() -> object:
    return cluster_footprint


class NamespacePins:
    """Open file descriptors on namespaces, so their ids (``net:[4026…]``, nsfs inode
    numbers) cannot be given to a new namespace while a test looks for leftovers.

    The kernel reuses a freed namespace's inode number at once (an IDA, lowest free
    id first): after a teardown, another run's new namespace can carry the very id
    the test watches. A pinned namespace stays allocated, so a process or mount showing
    its id is really holding *it*. Pinning keeps the namespace (and its mounts and
    links) alive, not any process; :meth:`close` releases them."""

    def __init__(self) -> None:
        self.fds: dict[str, int] = {}

    def pin(self, pids: list[int]) -> set[str]:
        """Pin every namespace of ``pids`` except this process's own; return their ids."""
        own = {os.readlink(f"/proc/self/ns/{k}") for k in NAMESPACE_KINDS}
        for pid in pids:
            for kind in NAMESPACE_KINDS:
                self._pin_one(f"/proc/{pid}/ns/{kind}", own)
        return set(self.fds)

    def _pin_one(self, path: str, own: set[str]) -> None:
        try:
            ns = os.readlink(path)
            if ns in own or ns in self.fds:
                return
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        except OSError:  # the process is gone; its namespaces were not ours to watch
            return
        if f"[{os.fstat(fd).st_ino}]" not in ns:  # the pid was reused in between
            os.close(fd)
            return
        self.fds[ns] = fd

    def close(self) -> None:
        for fd in self.fds.values():
            os.close(fd)
        self.fds.clear()


@pytest.fixture
def ns_pins() -> Iterator[NamespacePins]:
    pins = NamespacePins()
    yield pins
    pins.close()
