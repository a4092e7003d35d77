"""Two throwaway "nodes" for the Flannel emulation's real-kernel tests (test harness).

Each node is a network namespace created here (``flt<pid>-<n>-nodeX``) with ``eth0`` on
198.18.0.0/15, linked to the other node by a veth pair; pods are further namespaces.
Processes run through ``ip netns exec`` + :mod:`_nsexec` so that ``/run`` and
``/var/lib/cni`` are the test's own directories. Everything is torn down in the
finalizer, and the teardown asserts that no namespace or mount of the lab is left.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[3]
NSEXEC = Path(__file__).with_name("_nsexec.py")
PLUGINS = Path("/usr/lib/cni")
_counter = itertools.count()


def sh(argv: list[str], *, check: bool = True, input: str | None = None,
       timeout: float = 30) -> subprocess.CompletedProcess[str]:
    """Run argv (never a shell string)."""
    proc = subprocess.run(argv, capture_output=True, text=True, input=input, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f"{argv} -> {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
    return proc


def wait_for(pred: Callable[[], Any], timeout: float = 15, what: str = "") -> Any:
    """Poll ``pred`` until truthy, bounded by ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = pred()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what or pred}")
        time.sleep(0.1)


@dataclass
class Node:
    """One sandbox test node."""

    name: str
    netns: str
    root: Path
    ip: str
    ip6: str
    pod_cidr: str
    pod_cidr6: str
    procs: list[subprocess.Popen[str]] = field(default_factory=list)

    def ns(self, argv: list[str], **kw: Any) -> subprocess.CompletedProcess[str]:
        """argv in the node's network namespace."""
        return sh(["ip", "netns", "exec", self.netns, *argv], **kw)

    def isolated(self, argv: list[str]) -> list[str]:
        """argv prefix for the node's netns + private /run and /var/lib/cni."""
        return ["ip", "netns", "exec", self.netns, sys.executable, str(NSEXEC),
                str(self.root), "--", *argv]

    @property
    def state(self) -> Path:
        return self.root / "state.json"

    def node_object(self, annotations: dict[str, str] | None = None,
                    dual: bool = False) -> dict[str, Any]:
        spec: dict[str, Any] = {"podCIDR": self.pod_cidr, "podCIDRs": [self.pod_cidr]}
        if dual:
            spec["podCIDRs"].append(self.pod_cidr6)
        return {"metadata": {"name": self.name, "annotations": annotations or {}},
                "spec": spec}

    def write_state(self, peers: list[dict[str, str]], dual: bool = False,
                    annotations: dict[str, str] | None = None) -> None:
        tmp = self.state.with_suffix(".tmp")
        tmp.write_text(json.dumps({"node": self.node_object(annotations, dual),
                                   "peers": peers}))
        os.rename(tmp, self.state)

    def annotations(self) -> dict[str, str]:
        path = Path(f"{self.state}.annotations.json")
        return json.loads(path.read_text()) if path.exists() else {}

    def start_flanneld(self, version: str, netconf: dict[str, Any],
                       flags: tuple[str, ...] = ("--ip-masq", "--kube-subnet-mgr"),
                       peers: list[dict[str, str]] | None = None,
                       annotations: dict[str, str] | None = None
                       ) -> subprocess.Popen[str]:
        (self.root / "net-conf.json").write_text(json.dumps(netconf))
        dual = bool(netconf.get("EnableIPv6"))
        self.write_state(peers or [], dual=dual, annotations=annotations)
        for f in (f"{self.state}.annotations.json", f"{self.state}.condition.json"):
            Path(f).unlink(missing_ok=True)
        log = open(self.root / "flanneld.log", "a")  # noqa: SIM115
        argv = self.isolated([
            sys.executable, "-m", "harness.emulation.flannel.standalone",
            str(self.state), version, *flags,
            f"--net-config-path={self.root / 'net-conf.json'}",
        ])
        proc = subprocess.Popen(argv, stdout=log, stderr=log, text=True, cwd=REPO)
        log.close()
        self.procs.append(proc)
        wait_for(lambda: Path(f"{self.state}.condition.json").exists() or
                 proc.poll() is not None, 20, f"flanneld on {self.name}")
        assert proc.poll() is None, self.log()
        return proc

    def stop(self, proc: subprocess.Popen[str], timeout: float = 10) -> int:
        proc.send_signal(signal.SIGTERM)
        return proc.wait(timeout=timeout)

    def log(self) -> str:
        path = self.root / "flanneld.log"
        return path.read_text() if path.exists() else ""

    @property
    def subnet_env(self) -> Path:
        return self.root / "run" / "flannel" / "subnet.env"


@dataclass
class Lab:
    """Two nodes on one underlay plus pod namespaces."""

    prefix: str
    tmp: Path
    nodes: list[Node] = field(default_factory=list)
    netns: list[str] = field(default_factory=list)

    def add_netns(self, name: str) -> str:
        full = f"{self.prefix}-{name}"
        sh(["ip", "netns", "add", full])
        self.netns.append(full)
        sh(["ip", "-n", full, "link", "set", "lo", "up"])
        return full

    def cni_path(self) -> Path:
        path = self.tmp / "cni-bin"
        if not path.exists():
            path.mkdir()
            for name in ("bridge", "host-local", "loopback", "portmap"):
                (path / name).symlink_to(PLUGINS / name)
        return path

    def teardown(self) -> None:
        for node in self.nodes:
            for proc in node.procs:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait(timeout=10)
        for name in reversed(self.netns):
            sh(["ip", "netns", "del", name], check=False)
        shutil.rmtree(self.tmp, ignore_errors=True)


def _lab_mounts(marker: str) -> list[str]:
    out = sh(["findmnt", "-rn", "-o", "TARGET,SOURCE"]).stdout
    return [line for line in out.splitlines() if marker in line]


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[Lab]:
    if os.geteuid() != 0 or shutil.which("ip") is None or not PLUGINS.is_dir():
        pytest.skip("needs root, iproute2 and the CNI plugins in /usr/lib/cni")
    prefix = f"flt{os.getpid()}-{next(_counter)}"
    before_ns = sh(["ip", "netns", "list"]).stdout
    before_mounts = len(sh(["findmnt", "-rn"]).stdout.splitlines())
    lab = Lab(prefix, tmp_path)
    try:
        n1, n2 = lab.add_netns("node1"), lab.add_netns("node2")
        sh(["ip", "-n", n1, "link", "add", "eth0", "type", "veth", "peer", "name",
            "eth0", "netns", n2])
        for i, ns in enumerate((n1, n2), start=1):
            ip, ip6 = f"198.18.0.{i}", f"fd00:198:18::{i}"
            sh(["ip", "-n", ns, "addr", "add", f"{ip}/15", "dev", "eth0"])
            sh(["ip", "-n", ns, "-6", "addr", "add", f"{ip6}/64", "dev", "eth0", "nodad"])
            sh(["ip", "-n", ns, "link", "set", "eth0", "up"])
            other = f"198.18.0.{3 - i}"
            sh(["ip", "-n", ns, "route", "add", "default", "via", other, "dev", "eth0"])
            root = tmp_path / f"node{i}"
            root.mkdir()
            lab.nodes.append(Node(f"node{i}", ns, root, ip, ip6, f"10.244.{i}.0/24",
                                  f"fd00:10:244:{i}::/64"))
        yield lab
    finally:
        lab.teardown()
        after_ns = sh(["ip", "netns", "list"]).stdout
        assert prefix not in after_ns, "lab netns left behind"
        assert not _lab_mounts(str(tmp_path)), "lab mounts left behind"
        # global counts: informative only (other engineers work concurrently)
        if after_ns != before_ns or len(sh(["findmnt", "-rn"]).stdout.splitlines()) != before_mounts:
            print(f"note: host netns/mount count changed during {prefix} (concurrent work?)")
