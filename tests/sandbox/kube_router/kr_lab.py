"""Two light nodes for the kube-router emulation's real-kernel tests (test helper).

Each node is a :class:`harness.providers.light.LightNode` (netns ``krt<pid>-<n>-nodeX``,
``eth0`` on 198.18.0.0/15, a veth pair to the other node, pod CIDR 10.244.X.0/24). The
agent runs as ``harness.emulation.kube_router.standalone`` with the node's file view,
reading Node and Pod objects from a JSON file the test edits; pods are further
namespaces wired by Debian's real ``bridge`` plugin with the conflist kube-router wrote,
exactly as a runtime would. Everything is torn down in the fixture's finalizer; the
shared leak check (``tests/sandbox/conftest.py``) sees every namespace made here.
"""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cniscrub.node.command import CommandResult
from harness.providers.light import LightNode
from harness.wait import until

REPO = Path(__file__).resolve().parents[3]
PLUGINS = Path("/usr/lib/cni")
CONFLIST = "/etc/cni/net.d/10-kuberouter.conflist"
OWN_DIRS = ("etc/cni/net.d", "opt/cni/bin", "var/lib/cni")
MANIFEST = REPO / "fixtures" / "manifests" / "kube-router-v2.11.1.yml"
ARGS = (  # the manifest's args (kube-router-footprint.md §1)
    "--run-router=true",
    "--run-firewall=true",
    "--run-service-proxy=false",
    "--bgp-graceful-restart=true",
)
_counter = itertools.count()


def wait_for(pred: Callable[[], Any], timeout: float = 20, what: str = "") -> Any:
    """Poll ``pred`` until truthy (:func:`harness.wait.until`, bounded)."""
    return until(pred, timeout=timeout, interval=0.1, what=what)


def manifest_cni_conf() -> str:
    """The ConfigMap's ``cni-conf.json`` (what the init container copies, §1)."""
    import yaml

    for doc in yaml.safe_load_all(MANIFEST.read_text()):
        if doc and doc["kind"] == "ConfigMap":
            return str(doc["data"]["cni-conf.json"])
    raise AssertionError("no ConfigMap in the kube-router manifest")


def node_object(name: str, ip: str, cidr: str, **ann: str) -> dict[str, Any]:
    return {
        "metadata": {"name": name, "annotations": dict(ann)},
        "spec": {"podCIDR": cidr, "podCIDRs": [cidr]},
        "status": {"addresses": [{"type": "InternalIP", "address": ip}]},
    }


class Node(LightNode):
    """One test node: a light node with its Kubernetes identity and its agent."""

    def __init__(self, name: str, netns: str, root: Path, ip: str, cidr: str) -> None:
        super().__init__(name, root, address=ip, netns=netns)
        self.pod_cidr = cidr
        self.procs: list[subprocess.Popen[str]] = []
        self.pods: dict[str, str] = {}  # pod name -> netns

    @property
    def log_path(self) -> Path:
        return self.root / "kube-router.log"

    def log(self) -> str:
        return self.log_path.read_text() if self.log_path.exists() else ""

    def start_agent(
        self, state: Path, *flags: str, tag: str = "v2.11.1", wait: bool = True
    ) -> subprocess.Popen[str]:
        env = {"NODE_NAME": self.name, "KUBE_ROUTER_CNI_CONF_FILE": CONFLIST}
        argv = self.wrap(
            ["env", *(f"{k}={v}" for k, v in env.items()), sys.executable, "-m",
             "harness.emulation.kube_router.standalone", str(state), tag, *flags]
        )  # fmt: skip
        ups = self.log().count("kube-router is up")
        with open(self.log_path, "a") as log:
            proc = subprocess.Popen(argv, stdout=log, stderr=log, text=True, cwd=REPO)
        self.procs.append(proc)
        if wait:
            wait_for(
                lambda: (
                    self.log().count("kube-router is up") > ups
                    or proc.poll() is not None
                ),
                30,
                f"kube-router on {self.name}",
            )
            assert proc.poll() is None, self.log()
        return proc

    def stop_agent(self, proc: subprocess.Popen[str], timeout: float = 15) -> int:
        proc.send_signal(signal.SIGTERM)
        return proc.wait(timeout=timeout)

    def add_pod(self, name: str) -> str:
        """A pod netns wired by the real bridge plugin from the node's conflist; its IP."""
        ns = self.add_netns(name)
        listed = json.loads(self.read_file(CONFLIST))
        conf = {**listed["plugins"][0], "name": listed["name"]}
        conf["cniVersion"] = listed["cniVersion"]
        env = ["CNI_COMMAND=ADD", f"CNI_CONTAINERID={name}",
               f"CNI_NETNS=/run/netns/{ns}", "CNI_IFNAME=eth0", f"CNI_PATH={PLUGINS}"]  # fmt: skip
        out = self.exec(["env", *env, str(PLUGINS / "bridge")], input=json.dumps(conf))
        self.pods[name] = ns
        return str(json.loads(out.stdout)["ips"][0]["address"]).split("/")[0]

    def in_pod(self, pod: str, *argv: str, check: bool = True) -> str:
        res = self.net_exec(["ip", "netns", "exec", self.pods[pod], *argv], check=check)
        return res.stdout

    def ipj(self, *args: str) -> Any:
        out = self.net_exec(["ip", "-j", *args]).stdout
        return json.loads(out) if out.strip() else []

    def save(self, table: str) -> list[str]:
        out = self.net_exec(["iptables-save", "-t", table]).stdout
        return [ln for ln in out.splitlines() if not ln.startswith("#")]


@dataclass
class Lab:
    """Two nodes on one underlay and the JSON file their agents read."""

    tmp: Path
    nodes: list[Node] = field(default_factory=list)
    pods: list[dict[str, Any]] = field(default_factory=list)
    extra_nodes: list[dict[str, Any]] = field(default_factory=list)

    @property
    def state(self) -> Path:
        return self.tmp / "cluster.json"

    def write_state(self, annotations: dict[str, dict[str, str]] | None = None) -> None:
        nodes = [
            node_object(
                n.name, n.address, n.pod_cidr, **(annotations or {}).get(n.name, {})
            )
            for n in self.nodes
        ]
        tmp = self.state.with_suffix(".tmp")
        tmp.write_text(
            json.dumps({"nodes": nodes + self.extra_nodes, "pods": self.pods})
        )
        os.rename(tmp, self.state)

    def running_pod(self, node: Node, name: str, ip: str) -> None:
        """Record a Running pod on ``node`` for the agents (what the API would say)."""
        self.pods.append({
            "metadata": {"name": name, "namespace": "default"},
            "spec": {"nodeName": node.name},
            "status": {"phase": "Running", "podIP": ip},
        })  # fmt: skip
        self.write_state()

    def install_cni_conf(self) -> None:
        """What the pod's start leaves on a clean node: the init container's conflist
        (the ConfigMap's text, §1) and the empty directory the runtime makes for the
        kubeadm manifest's untyped hostPath /var/lib/kube-router/kubeconfig (§2.1)."""
        for node in self.nodes:
            node.write_file(CONFLIST, manifest_cni_conf())
            node.path("/var/lib/kube-router/kubeconfig").mkdir(
                parents=True, exist_ok=True
            )

    def teardown(self) -> None:
        for node in self.nodes:
            for proc in node.procs:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait(timeout=10)
        for node in self.nodes:
            node.destroy()


def make_lab(tmp: Path) -> Lab:
    prefix = f"krt{os.getpid()}-{next(_counter)}"
    lab = Lab(tmp)
    try:
        for i in (1, 2):
            node = Node(f"node{i}", f"{prefix}-node{i}", tmp / f"node{i}",
                        f"198.18.0.{i}", f"10.244.{i}.0/24")  # fmt: skip
            node.make()
            lab.nodes.append(node)
            for own in OWN_DIRS:  # the host's CNI state never shows through
                path = node.root / own
                path.mkdir(parents=True, exist_ok=True)
                os.setxattr(path, "trusted.overlay.opaque", b"y")
        n1, n2 = lab.nodes
        n1.ip("link", "add", "eth0", "type", "veth", "peer", "name", "eth0",
              "netns", n2.ns)  # fmt: skip
        for node in lab.nodes:
            node.ip("addr", "add", f"{node.address}/15", "dev", "eth0")
            node.ip("link", "set", "eth0", "up")
        lab.write_state()
    except BaseException:
        lab.teardown()
        raise
    return lab


INIT = """
import json, sys
from harness.emulation.images.base import ContainerContext
from harness.emulation.kube_router.image import KubeRouterImage
ctx = ContainerContext(image=sys.argv[1], node_name="n", pod_name="kube-router-x",
                       pod_namespace="kube-system", pod_uid="u",
                       container_name="install-cni", init=True)
sys.exit(KubeRouterImage().run(json.loads(sys.argv[2]), ctx))
"""


def install_cni_command() -> list[str]:
    """The manifest's ``install-cni`` command (kube-router-footprint.md §1)."""
    import yaml

    for doc in yaml.safe_load_all(MANIFEST.read_text()):
        if doc and doc["kind"] == "DaemonSet":
            (init,) = doc["spec"]["template"]["spec"]["initContainers"]
            return list(init["command"])
    raise AssertionError("no DaemonSet in the kube-router manifest")


def run_install_cni(node: Node, tag: str = "v2.11.1") -> CommandResult:
    """The init container in ``node`` as the kubelet runs it: the image handler with
    the manifest's command, the ConfigMap at /etc/kube-router, a private mount
    namespace (the node's file view)."""
    node.write_file("/etc/kube-router/cni-conf.json", manifest_cni_conf())
    image = f"docker.io/cloudnativelabs/kube-router:{tag}"
    argv = [sys.executable, "-c", INIT, image, json.dumps(install_cni_command())]
    return node.exec(argv, check=False, env={"PYTHONPATH": str(REPO)})
