"""A small hand-made validation result (no cluster) for the report tests."""

from __future__ import annotations

from pathlib import Path

from harness.actions.base import Run
from harness.runbook.classify import Delta
from harness.runbook.model import Runbook, Step
from harness.runbook.result import (
    CLUSTER,
    Expectation,
    PodEvent,
    PodOutcome,
    StepResult,
    Validation,
)

SANDBOX_ERROR = (
    "Failed to create pod sandbox: rpc error: code = Unknown desc = failed to setup "
    'network for sandbox "0123": plugin type="flannel" failed (add): '
    "loadFlannelSubnetEnv failed: open /run/flannel/subnet.env: no such file or directory"
)


def sample(*, clean: bool = False, expect_held: bool = True) -> Validation:
    steps = (
        Step(
            1,
            "kubectl",
            {"args": ["delete", "-f", "x.yml"]},
            line=3,
            source="kubectl delete -f x.yml",
            notes=("ran once against the cluster",),
        ),
        Step(2, "shell", {"script": "iptables -F"}, line=4, source="iptables -F <b>&"),
        Step(3, "expect", {"pods_running": True}, line=5, source="{}"),
    )
    rb = Runbook(
        Path("/tmp/article-runbook.sh"), "shell", steps, name="article-runbook.sh"
    )
    left = [] if clean else ["file /opt/cni/bin/flannel"]
    destroyed = (
        [] if clean else ['rule "-A INPUT -p tcp --dport 22 -j ACCEPT" (filter, nft)']
    )
    v = Validation(
        rb,
        {
            "nodes": ["lab-control-plane", "lab-worker"],
            "flannel_version": "v0.27.3",
            "runtime": "containerd-1.7",
            "provider": "sandbox",
            "baseline": ["kube-proxy"],
        },
        timings={"total": 4.2, "snapshots": 0.3},
    )
    r1 = StepResult(
        steps[0], "ok", 0.0, 1.2, [Run("cluster", 0, "daemonset deleted", "", 1.2)]
    )
    r2 = StepResult(
        steps[1],
        "failed",
        1.2,
        0.1,
        [
            Run("lab-worker", 1, "", "iptables: <oops>", 0.1),
            Run("lab-control-plane", 0, "", "", 0.1),
        ],
    )
    r2.effects["lab-worker"] = Delta(removed=["chain x"], destroyed=destroyed)
    r2.events.append(
        PodEvent(
            "web-1", "lab-worker", "Warning", "FailedCreatePodSandBox", SANDBOX_ERROR
        )
    )
    r3 = StepResult(
        steps[2],
        "ok" if expect_held else "failed",
        1.3,
        0.5,
        expectations=[Expectation("pods Running on every node", expect_held)],
    )
    v.steps = [r1, r2, r3]
    v.final = {
        "lab-worker": Delta(
            removed=["link cni0 (bridge)"], left=left, destroyed=destroyed
        ),
        CLUSTER: Delta(
            left=[]
            if clean
            else ["annotation flannel.alpha.coreos.com/backend-data on node/lab-worker"]
        ),
    }
    v.cni_objects = {"lab-worker": 2, CLUSTER: 1}
    v.pods = [
        PodOutcome("probe-lab-worker", "lab-worker", "Pending", "", SANDBOX_ERROR)
    ]
    return v
