"""The ``flannel`` image's flanneld through the kube subnet manager, end to end in one
real-kernel node, with the API stand-in inside that node (no cluster needed).

Facts: flannel-footprint.md §2.2 (subnet.env), §2.3 (peer from a Node lease),
§2.7 (annotations and NetworkUnavailable via nodes/status).
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from flannel_lab import REPO, Lab, ipj, wait_for

pytestmark = pytest.mark.sandbox
A = "flannel.alpha.coreos.com/"


def test_flanneld_with_api_standin(lab: Lab) -> None:
    n1, _ = lab.nodes
    out = n1.root / "nodes.json"
    log = open(n1.root / "kube.log", "w")  # noqa: SIM115
    argv = n1.wrap(
        [sys.executable, str(Path(__file__).with_name("_kube_node.py")), str(out)]
    )
    proc = subprocess.Popen(argv, stdout=log, stderr=log, cwd=REPO)
    n1.procs.append(proc)  # type: ignore[arg-type]
    log.close()

    def route() -> bool:
        return any(r["dst"] == "10.244.2.0/24" for r in ipj(n1, "route", "show"))

    wait_for(lambda: route() or proc.poll() is not None, 30, "peer route from Node")
    assert proc.poll() is None, (n1.root / "kube.log").read_text()
    assert n1.subnet_env.read_text().startswith("FLANNEL_NETWORK=10.244.0.0/16\n")
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=20) == 0
    result = json.loads(out.read_text())
    assert result["rc"] == 0
    node1 = next(n for n in result["nodes"] if n["metadata"]["name"] == "node1")
    ann = node1["metadata"]["annotations"]
    assert ann[A + "kube-subnet-manager"] == "true"
    assert ann[A + "backend-type"] == "vxlan"
    assert ann[A + "public-ip"] == "198.18.0.1"
    assert json.loads(ann[A + "backend-data"])["VNI"] == 1
    cond = [
        c for c in node1["status"]["conditions"] if c["type"] == "NetworkUnavailable"
    ]
    assert [(c["status"], c["reason"], c["message"]) for c in cond] == [
        ("False", "FlannelIsUp", "Flannel is running on this node")
    ]
    neigh = ipj(n1, "neigh", "show", "dev", "flannel.1")
    assert [(x["dst"], x["lladdr"]) for x in neigh] == [
        ("10.244.2.0", "aa:bb:cc:00:00:02")
    ]
