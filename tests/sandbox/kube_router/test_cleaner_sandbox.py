"""``cniscrub --cni kube-router`` on a node the emulated kube-router set up, next to
foreign state (kube-proxy, Docker, podman, SSH rule, a user bridge and route, kube-proxy
IPVS ipsets, operator policy rules) and, in the swap case, Flannel's leftovers: plan,
apply, verify, a second apply that does nothing, restore (kube-router-footprint.md §2;
same contract as the Flannel cleaner)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from kr_lab import ARGS, CONFLIST, REPO, Lab, Node, wait_for
from kr_residue import flannel_leftovers, foreign

from harness import baseline
from harness.snapshot.diff import diff
from harness.snapshot.node import objects

pytestmark = [pytest.mark.sandbox, pytest.mark.timeout(300)]
KUBE_ROUTER = re.compile(
    r"KUBE-ROUTER|KUBE-NWPLCY|KUBE-POD-FW|kube-router|kube-bridge|proto 17|mynet"
    r"|from 10\.244\.\S+ lookup 77"
)
FOREIGN = ("KUBE-SERVICES", "KUBE-FORWARD", "KUBE-SVC", "KUBE-MARK", "KUBE-CLUSTER-IP",
           "DOCKER", "docker0", "podman", "br-lab", "user-allow", "10.99.0.0",
           "FLANNEL", "flannel", "cni0", "cbr0", "198.51.100.0")  # fmt: skip
# what stays changed on purpose: the bridge plugin turned on forwarding (§2.2) and
# nothing reverts a sysctl (§4 lists sysctls among what no cleanup removes)
EXPECTED_CHANGES = {"sysctl net.ipv4.ip_forward"}


def cleaner(node: Node, tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    extra = (
        ["--lock-file", str(tmp / "lock")] if args[0] in ("apply", "restore") else []
    )
    if args[0] == "apply":
        extra += ["--journal-dir", str(tmp / "journal")]
    argv = ["ip", "netns", "exec", node.ns, sys.executable, "-m", "cniscrub", *args,
            "--root", str(node.root), *extra]  # fmt: skip
    env = {"PYTHONPATH": str(REPO), "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}
    return subprocess.run(argv, capture_output=True, text=True, timeout=180, env=env)


def ipsets(node: Node) -> str:
    out = node.net_exec(["ipset", "save"]).stdout
    return "\n".join(sorted(re.sub(r" (bucketsize|initval) \S+", "", out).splitlines()))


def kube_router_node(lab: Lab, with_flannel: bool) -> Node:
    n1 = lab.nodes[0]
    baseline.apply([n1])
    foreign(n1)
    if with_flannel:
        flannel_leftovers(n1)
    return n1


def running(lab: Lab, node: Node) -> None:
    """kube-router on both nodes, a pod on ``node``, until its state is complete."""
    lab.install_cni_conf()
    n2 = lab.nodes[1]
    node.start_agent(lab.state, *ARGS)
    n2.start_agent(lab.state, *ARGS)
    lab.running_pod(node, "web", node.add_pod("web"))
    wait_for(lambda: "proto 17" in node.net_exec(["ip", "route"]).stdout, 20, "routes")
    wait_for(lambda: any("KUBE-POD-FW-" in ln for ln in node.save("filter")), 20, "fw")


def leftovers(snap: dict[str, str]) -> list[str]:
    return sorted(n for n in snap if KUBE_ROUTER.search(n))


@pytest.mark.parametrize(
    "with_flannel", [False, True], ids=["clean", "flannel-leftovers"]
)
def test_plan_apply_verify_restore(
    lab: Lab, tmp_path: Path, with_flannel: bool
) -> None:
    node = kube_router_node(lab, with_flannel)
    foreign_only, foreign_sets = objects(node), ipsets(node)
    running(lab, node)
    refused = cleaner(node, tmp_path, "apply", "--cni", "kube-router", "--yes")
    assert refused.returncode == 6
    assert "kube-router is running" in refused.stdout + refused.stderr
    node.stop_agent(node.procs[0])
    before, before_sets = objects(node), ipsets(node)
    assert leftovers(before)

    planned = cleaner(node, tmp_path, "plan", "--cni", "kube-router", "--json")
    assert planned.returncode == 2, planned.stderr
    plan = json.loads(planned.stdout)
    for a in plan["actions"]:
        assert a["evidence"], a["target"]
        assert not any(f in a["target"] for f in FOREIGN), a["target"]
    left = " ".join(x["target"] for x in plan["left_alone"])
    assert "from 10.99.0.0/24 lookup 77" in left  # table 77, source not a pod CIDR

    applied = cleaner(
        node, tmp_path, "apply", "--cni", "kube-router", "--yes", "--json"
    )
    assert applied.returncode == 0, applied.stdout + applied.stderr
    report = json.loads(applied.stdout)
    assert report["verify"]["clean"] is True
    after = objects(node)
    assert leftovers(after) == []
    changes = diff(foreign_only, after)
    assert set(changes.changed) | set(changes.vanished) | set(changes.appeared) <= (
        EXPECTED_CHANGES
    ), changes.text()
    assert ipsets(node) == foreign_sets  # kube-proxy's and the operator's sets kept
    assert not node.path("/var/lib/kube-router").exists()

    assert cleaner(node, tmp_path, "verify", "--cni", "kube-router").returncode == 0
    again = cleaner(node, tmp_path, "apply", "--cni", "kube-router", "--yes")
    assert again.returncode == 0 and "nothing to do" in again.stdout

    restored = cleaner(node, tmp_path, "restore", report["journal"], "--yes", "--json")
    results: list[dict[str, Any]] = json.loads(restored.stdout or "{}").get(
        "results", []
    )
    bad = [r for r in results if r["status"] not in ("restored", "noop")]
    assert restored.returncode == 0, json.dumps(bad, indent=1)
    assert not diff(before, objects(node)), diff(before, objects(node)).text()
    assert ipsets(node) == before_sets
    assert b'"ranges"' in node.read_file(CONFLIST)
