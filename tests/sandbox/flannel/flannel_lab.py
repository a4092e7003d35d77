"""Two throwaway light nodes for the Flannel emulation's real-kernel tests (test helper).

Each node is a :class:`harness.providers.light.LightNode` (it implements the ``Node``
protocol) whose network namespace is ``flt<pid>-<n>-nodeX``, with ``eth0`` on
198.18.0.0/15, linked to the other node by a veth pair; pods are further namespaces.
Processes run with the node's file view (``LightNode.wrap``: ``/run`` and ``/var`` are
the node's own, under its root). Everything is torn down in the finalizer; the shared
leak check (``tests/sandbox/conftest.py``) sees every namespace made here.
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
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cniscrub.node.command import CommandResult
from harness.providers.light import LightNode, add_netns, del_netns

REPO = Path(__file__).resolve().parents[3]
PLUGINS = Path("/usr/lib/cni")
_counter = itertools.count()


def next_prefix() -> str:
    """A netns name prefix unique to this process and test."""
    return f"flt{os.getpid()}-{next(_counter)}"


def sh(
    argv: list[str],
    *,
    check: bool = True,
    input: str | None = None,
    timeout: float = 30,
) -> subprocess.CompletedProcess[str]:
    """Run argv (never a shell string)."""
    proc = subprocess.run(
        argv, capture_output=True, text=True, input=input, timeout=timeout
    )
    if check and proc.returncode != 0:
        raise AssertionError(
            f"{argv} -> {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
        )
    return proc


def wait_for(pred: Callable[[], Any], timeout: float = 15, what: str = "") -> Any:
    """Poll ``pred`` until truthy, bounded by ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = pred()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(
                f"timed out after {timeout}s waiting for {what or pred}"
            )
        time.sleep(0.1)


class Node(LightNode):
    """One sandbox test node: a light node plus its Kubernetes identity."""

    def __init__(
        self,
        name: str,
        netns: str,
        root: Path,
        ip: str,
        ip6: str,
        pod_cidr: str,
        pod_cidr6: str,
    ) -> None:
        super().__init__(name, root, address=ip, netns=netns)
        self.ip6, self.pod_cidr, self.pod_cidr6 = ip6, pod_cidr, pod_cidr6
        self.procs: list[subprocess.Popen[str]] = []

    @property
    def state(self) -> Path:
        return self.root / "state.json"

    def node_object(
        self, annotations: dict[str, str] | None = None, dual: bool = False
    ) -> dict[str, Any]:
        spec: dict[str, Any] = {"podCIDR": self.pod_cidr, "podCIDRs": [self.pod_cidr]}
        if dual:
            spec["podCIDRs"].append(self.pod_cidr6)
        return {
            "metadata": {"name": self.name, "annotations": annotations or {}},
            "spec": spec,
        }

    def write_state(
        self,
        peers: list[dict[str, str]],
        dual: bool = False,
        annotations: dict[str, str] | None = None,
    ) -> None:
        tmp = self.state.with_suffix(".tmp")
        tmp.write_text(
            json.dumps({"node": self.node_object(annotations, dual), "peers": peers})
        )
        os.rename(tmp, self.state)

    def annotations(self) -> dict[str, str]:
        path = Path(f"{self.state}.annotations.json")
        return json.loads(path.read_text()) if path.exists() else {}

    def start_flanneld(
        self,
        version: str,
        netconf: dict[str, Any],
        flags: tuple[str, ...] = ("--ip-masq", "--kube-subnet-mgr"),
        peers: list[dict[str, str]] | None = None,
        annotations: dict[str, str] | None = None,
    ) -> subprocess.Popen[str]:
        (self.root / "net-conf.json").write_text(json.dumps(netconf))
        dual = bool(netconf.get("EnableIPv6"))
        self.write_state(peers or [], dual=dual, annotations=annotations)
        for f in (f"{self.state}.annotations.json", f"{self.state}.condition.json"):
            Path(f).unlink(missing_ok=True)
        log = open(self.root / "flanneld.log", "a")  # noqa: SIM115
        argv = self.wrap(
            [
                sys.executable,
                "-m",
                "harness.emulation.flannel.standalone",
                str(self.state),
                version,
                *flags,
                f"--net-config-path={self.root / 'net-conf.json'}",
            ]
        )
        proc = subprocess.Popen(argv, stdout=log, stderr=log, text=True, cwd=REPO)
        log.close()
        self.procs.append(proc)
        wait_for(
            lambda: (
                Path(f"{self.state}.condition.json").exists() or proc.poll() is not None
            ),
            20,
            f"flanneld on {self.name}",
        )
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
        full = add_netns(f"{self.prefix}-{name}")
        self.netns.append(full)
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
        for node in self.nodes:
            node.destroy()
        for name in reversed(self.netns):
            del_netns(name)
        shutil.rmtree(self.tmp, ignore_errors=True)


ANN = "flannel.alpha.coreos.com/"
NETCONF = {"Network": "10.244.0.0/16", "Backend": {"Type": "vxlan"}}
CNI_CONF = {
    "cniVersion": "0.3.1",
    "name": "cbr0",
    "type": "flannel",
    "delegate": {"hairpinMode": True, "isDefaultGateway": True},
}


def peer_of(node: Node, dual: bool = False) -> dict[str, str]:
    """The Peer fields another node's flanneld would build from ``node``."""
    ann = node.annotations()
    peer = {
        "name": node.name,
        "pod_cidr": node.pod_cidr,
        "public_ip": ann[ANN + "public-ip"],
        "vtep_mac": json.loads(ann[ANN + "backend-data"]).get("VtepMAC", "")
        if ann[ANN + "backend-data"] != "null"
        else "",
        "backend_type": ann[ANN + "backend-type"],
    }
    if dual:
        peer |= {
            "pod_cidr_v6": node.pod_cidr6,
            "public_ipv6": ann[ANN + "public-ipv6"],
            "vtep_mac_v6": json.loads(ann[ANN + "backend-v6-data"])["VtepMAC"],
        }
    return peer


def ipj(node: Node, *args: str) -> Any:
    """``ip -j ...`` in the node, parsed."""
    out = node.net_exec(["ip", "-j", *args]).stdout
    return json.loads(out) if out.strip() else []


def link(node: Node, name: str) -> dict[str, Any] | None:
    out = node.net_exec(["ip", "-d", "-j", "link", "show", name], check=False)
    return json.loads(out.stdout)[0] if out.ok else None


def save(node: Node, table: str, family: int = 4) -> list[str]:
    cmd = "iptables-save" if family == 4 else "ip6tables-save"
    return [
        ln
        for ln in node.net_exec([cmd, "-t", table]).stdout.splitlines()
        if "FLANNEL" in ln
    ]


def cni(
    lab: Lab,
    node: Node,
    command: str,
    cid: str,
    pod_ns: str,
    conf: dict[str, Any] | None = None,
) -> CommandResult:
    """Invoke the installed flannel launcher in the node like a runtime would."""
    exe = lab.cni_path() / "flannel"
    env_argv = [
        "env",
        f"CNI_COMMAND={command}",
        f"CNI_CONTAINERID={cid}",
        f"CNI_NETNS=/run/netns/{pod_ns}",
        "CNI_IFNAME=eth0",
        f"CNI_PATH={lab.cni_path()}",
        str(exe),
    ]
    return node.exec(env_argv, check=False, input=json.dumps(conf or CNI_CONF))


def install_plugin(lab: Lab, plugin_version: str) -> None:
    from harness.emulation.flannel.cni_plugin import install_launcher

    install_launcher(str(lab.cni_path() / "flannel"), plugin_version)
