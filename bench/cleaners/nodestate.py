"""Build a generated node in a fresh network namespace, and always tear it down.

``built_node(size)`` creates a new network namespace for the node and one small
netns per pod holding the pod end of its veth, plus a temp dir
``cniscrub-bench-<hex>`` whose ``root/`` is the node's file tree. A namespace
is created by ``unshare(CLONE_NEWNET)`` in a short-lived thread (only that
thread moves; the caller's namespace never changes) and kept alive by an open
fd of this process, so tools reach it as ``/proc/<pid>/fd/<n>``. Nothing is
bind-mounted (no /run/netns entry that a concurrent ``ip netns``/harness
clean-up could detach, no mount to leak), and closing the fds in ``finally``
- or the process dying - frees every namespace.

Links, addresses, routes and neighbours go in with one ``ip -batch``, FDB
entries with one ``bridge -batch``, rules with one ``iptables-restore``. The
built state is then checked against the manifest (every Flannel and foreign
object present).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from . import census
from .spec import NodeSpec, Size, plan_node

PREFIX = "cniscrub-bench-"
TIMEOUT = 120
CLONE_NEWNET = 0x40000000
_libc = ctypes.CDLL(None, use_errno=True)


class BuildError(RuntimeError):
    """The generated node does not match its manifest."""


def new_netns() -> int:
    """A new, empty network namespace held by the returned fd."""
    box: dict[str, int] = {}

    def body() -> None:
        if _libc.unshare(CLONE_NEWNET) != 0:
            box["errno"] = ctypes.get_errno()
            return
        path = f"/proc/self/task/{threading.get_native_id()}/ns/net"
        box["fd"] = os.open(path, os.O_RDONLY | os.O_CLOEXEC)

    thread = threading.Thread(target=body, name="cniscrub-bench-netns")
    thread.start()
    thread.join(timeout=10)
    if "fd" not in box:
        err = box.get("errno", 0)
        raise BuildError(f"unshare(CLONE_NEWNET) failed: {os.strerror(err)}")
    return box["fd"]


def ns_path(fd: int) -> str:
    """Path naming the namespace held by ``fd`` (usable by nsenter, ip, pyroute2)."""
    return f"/proc/{os.getpid()}/fd/{fd}"


@dataclass
class Node:
    """A live generated node."""

    label: str
    workdir: Path
    spec: NodeSpec
    fd: int = -1
    pod_fds: list[int] = field(default_factory=list)
    build_seconds: float = 0.0
    owner_pid: int = field(default_factory=os.getpid)

    @property
    def netns(self) -> str:
        """Path of the node's network namespace."""
        return ns_path(self.fd)

    @property
    def root(self) -> Path:
        """The node's file tree (``--root``)."""
        return self.workdir / "root"

    @property
    def journal(self) -> Path:
        """A scratch journal dir outside the root."""
        return self.workdir / "journal"


def _run(argv: list[str], stdin: str | None = None) -> None:
    proc = subprocess.run(
        argv, input=stdin, capture_output=True, text=True, timeout=TIMEOUT, check=False
    )
    if proc.returncode != 0:
        raise BuildError(
            f"{argv[:4]} failed rc={proc.returncode}: {proc.stderr[-800:]}"
        )


def in_ns(path: str, argv: list[str]) -> list[str]:
    """``argv`` run inside the network namespace at ``path``."""
    return ["nsenter", f"--net={path}", "--", *argv]


def _write_files(root: Path, spec: NodeSpec) -> None:
    for rel, (content, mode) in sorted(spec.files.items()):
        path = root / rel
        if rel.endswith("/"):
            path.mkdir(parents=True, exist_ok=True)
            path.chmod(mode)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        path.chmod(mode)


def _pod_lines(node: Node) -> list[str]:
    lines = []
    for pod, fd in zip(node.spec.pods, node.pod_fds, strict=True):
        mac = f"0e:cb:00:00:{pod.index >> 8:02x}:{pod.index & 255:02x}"
        peer = f"peer name eth0 netns {ns_path(fd)}"
        lines.append(f"link add {pod.veth} address {mac} type veth {peer}")
        lines.append(f"link set {pod.veth} master cni0 up")
    return lines


def build(node: Node) -> None:
    """Create everything of ``node.spec`` inside the node's namespace."""
    spec = node.spec
    for _pod in spec.pods:
        node.pod_fds.append(new_netns())
    batch = spec.ip_batch + _pod_lines(node)
    _run(in_ns(node.netns, ["ip", "-batch", "-"]), "\n".join(batch) + "\n")
    _run(in_ns(node.netns, ["bridge", "-batch", "-"]), "\n".join(spec.fdb_batch) + "\n")
    for pod, fd in zip(spec.pods, node.pod_fds, strict=True):
        pod_batch = [
            "link set lo up",
            f"addr add {pod.ip}/24 dev eth0",
            "link set eth0 up",
            "route add default via 10.244.0.1 dev eth0",
        ]
        _run(in_ns(ns_path(fd), ["ip", "-batch", "-"]), "\n".join(pod_batch) + "\n")
    _run(in_ns(node.netns, ["iptables-restore", "-w", "5"]), spec.restore_text)
    _write_files(node.root, spec)


def verify(node: Node) -> census.Census:
    """Census of the fresh node; raise unless it matches the manifest exactly."""
    spec = node.spec
    c = census.compare(
        spec.flannel, spec.foreign, census.observe(node.netns, node.root)
    )
    missing = {k: len(v) - c.flannel_left[k] for k, v in spec.flannel.items()}
    if c.lost or any(missing.values()):
        raise BuildError(
            f"built node differs from manifest: flannel missing {missing}, "
            f"foreign missing {c.foreign_lost} e.g. {c.lost_examples[:5]}"
        )
    return c


def teardown(node: Node) -> list[str]:
    """Release pod and node namespaces and remove the temp dir; return failures.

    Only the process that built the node tears it down: a forked helper (pyroute2
    may fork to enter a netns) unwinding through ``built_node`` must not.
    """
    if os.getpid() != node.owner_pid:
        return []
    errors = []
    for fd in [*node.pod_fds, node.fd]:
        if fd < 0:
            continue
        try:
            os.close(fd)
        except OSError as exc:
            errors.append(f"close netns fd {fd}: {exc}")
    node.pod_fds, node.fd = [], -1
    shutil.rmtree(node.workdir, ignore_errors=True)
    if node.workdir.exists():
        errors.append(f"dir {node.workdir} not removed")
    return errors


@contextlib.contextmanager
def built_node(size: Size, check: bool = True) -> Iterator[Node]:
    """A freshly built, verified node of ``size``; torn down on exit."""
    start = time.perf_counter()
    label = PREFIX + secrets.token_hex(4)
    node = Node(label, Path(tempfile.mkdtemp(prefix=label + "-")), plan_node(size))
    try:
        node.fd = new_netns()
        build(node)
        if check:
            verify(node)
        node.build_seconds = time.perf_counter() - start
        yield node
    except BaseException:
        for err in teardown(node):
            print(f"teardown: {err}", file=sys.stderr)
        raise
    errors = teardown(node)
    if errors:
        raise BuildError("teardown failed: " + "; ".join(errors))
