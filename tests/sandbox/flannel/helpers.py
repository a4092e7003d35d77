"""Shared helpers for the Flannel sandbox tests (test harness)."""

from __future__ import annotations

import json
import subprocess
from typing import Any

from tests.sandbox.flannel.conftest import Lab, Node, sh

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
    out = node.ns(["ip", "-j", *args]).stdout
    return json.loads(out) if out.strip() else []


def link(node: Node, name: str) -> dict[str, Any] | None:
    out = node.ns(["ip", "-d", "-j", "link", "show", name], check=False)
    return json.loads(out.stdout)[0] if out.returncode == 0 else None


def save(node: Node, table: str, family: int = 4) -> list[str]:
    cmd = "iptables-save" if family == 4 else "ip6tables-save"
    return [ln for ln in node.ns([cmd, "-t", table]).stdout.splitlines()
            if "FLANNEL" in ln]


def cni(lab: Lab, node: Node, command: str, cid: str, pod_ns: str,
        conf: dict[str, Any] | None = None) -> subprocess.CompletedProcess[str]:
    """Invoke the installed flannel launcher in the node like a runtime would."""
    exe = lab.cni_path() / "flannel"
    env_argv = ["env", f"CNI_COMMAND={command}", f"CNI_CONTAINERID={cid}",
                f"CNI_NETNS=/run/netns/{pod_ns}", "CNI_IFNAME=eth0",
                f"CNI_PATH={lab.cni_path()}", str(exe)]
    return sh(node.isolated(env_argv), check=False,
              input=json.dumps(conf or CNI_CONF))


def install_plugin(lab: Lab, plugin_version: str) -> None:
    from harness.emulation.flannel.cni_plugin import install_launcher

    install_launcher(str(lab.cni_path() / "flannel"), plugin_version)
