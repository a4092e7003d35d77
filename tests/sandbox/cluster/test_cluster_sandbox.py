"""``cniscrub cluster`` against a 3-node sandbox cluster with Flannel installed from the
shipped manifest: the plan, a dry run, apply (order of deletes from the audit log, no
node Job before the agent's pods are gone, at most --parallel Jobs, every node clean
inside, annotations and condition gone, the summary equal to the nodes' own reports,
a converging re-run) and a node powered off during the run.

Facts: flannel-footprint.md §1.1 (the manifest's objects and labels), §2.7 (node
annotations and the NetworkUnavailable/FlannelIsUp condition), §7 (node residue);
kube-api-standin.md §4 (the API stand-in the tests read the audit log of).
"""

from __future__ import annotations

import json
import subprocess

import pytest

from cniscrub.cluster.reports import split_log
from cniscrub.deploy import manifest_text
from harness.kube import kubectl, kubectl_json
from harness.providers.base import Cluster
from harness.wait import until
from tests.sandbox.cluster.cluster_lab import (
    CNISCRUB,
    DELETE_ORDER,
    Audit,
    check_clean_apply,
    cluster_residue,
    flannel_up,
    node_result,
    residue,
    run_cluster,
)

pytestmark = [pytest.mark.sandbox, pytest.mark.slow]

USER_CM = {
    "apiVersion": "v1",
    "kind": "ConfigMap",
    "metadata": {"name": "user-settings", "namespace": "kube-flannel"},
    "data": {"k": "v"},
}


def test_plan_and_dry_run_change_nothing(lab_cluster: Cluster) -> None:
    flannel_up(lab_cluster)
    kubectl(lab_cluster, "apply", "-f", "-", input=json.dumps(USER_CM))
    try:
        before_objects = kubectl_json(
            lab_cluster, "get", "ds,cm,sa", "-n", "kube-flannel"
        )
        before_nodes = cluster_residue(lab_cluster)
        mark = Audit.mark(lab_cluster)
        plan = run_cluster(lab_cluster, "plan", "--cni", "flannel", "--api-only")
        assert plan.rc == 2
        doc = plan.doc
        assert {(o["kind"], o["name"]) for o in doc["objects"]} == {
            ("DaemonSet", "kube-flannel-ds"),
            ("ConfigMap", "kube-flannel-cfg"),
            ("ServiceAccount", "flannel"),
            ("ClusterRole", "flannel"),
            ("ClusterRoleBinding", "flannel"),
            ("Namespace", "kube-flannel"),
        }
        ds = next(o for o in doc["objects"] if o["kind"] == "DaemonSet")
        assert "label app=flannel" in ds["evidence"]
        assert {p["node"] for p in doc["agent_pods"]} == {
            n.name for n in lab_cluster.nodes
        }
        for node in doc["nodes"]:
            assert node["annotations"] and node["condition"]["reason"] == "FlannelIsUp"
        # a namespace holding someone else's object is kept, and said so
        kinds = [s["target"] for s in doc["steps"] if s["kind"] == "delete"]
        assert "Namespace kube-flannel" not in kinds
        kept = [k for k in doc["left_alone"] if k["target"] == "Namespace kube-flannel"]
        assert kept and "ConfigMap user-settings" in kept[0]["why"]
        assert "pod-security.kubernetes.io/enforce" in kept[0]["why"]

        dry = subprocess.run(
            [CNISCRUB, "cluster", "apply", "--cni", "flannel", "--dry-run"],
            capture_output=True,
            text=True,
            timeout=120,
            env={"KUBECONFIG": str(lab_cluster.kubeconfig), "PATH": "/usr/bin:/bin"},
            check=False,
        )
        assert dry.returncode == 2, dry.stderr
        for path in DELETE_ORDER[:-1]:  # the namespace stays: it holds user-settings
            assert f"DELETE {path}?propagationPolicy=Background" in dry.stdout
        assert dry.stdout.count("kind: Job") == len(lab_cluster.nodes)
        for node in lab_cluster.nodes:
            assert f"nodeName: {node.name}" in dry.stdout
            assert f"PATCH /api/v1/nodes/{node.name}/status" in dry.stdout
        # nothing changed: no write by cniscrub, same objects, same node residue
        audit = Audit(lab_cluster, since=mark)
        assert audit.by("cniscrub/") and audit.cniscrub() == []
        after = kubectl_json(lab_cluster, "get", "ds,cm,sa", "-n", "kube-flannel")
        uids = lambda d: sorted(i["metadata"]["uid"] for i in d["items"])  # noqa: E731
        assert uids(after) == uids(before_objects)
        assert cluster_residue(lab_cluster) == before_nodes
    finally:
        kubectl(
            lab_cluster,
            *("delete", "-f", "-", "--ignore-not-found"),
            input=json.dumps(USER_CM),
        )


def test_apply_cleans_every_node_in_order_and_converges(lab_cluster: Cluster) -> None:
    flannel_up(lab_cluster)
    nodes = {n.name: n for n in lab_cluster.nodes}
    assert all(residue(n) for n in nodes.values())  # Flannel really is on the nodes
    mark = Audit.mark(lab_cluster)
    run = run_cluster(
        lab_cluster, "apply", "--cni", "flannel", "--yes", "--parallel", "2"
    )
    assert run.rc == 0, run.stderr

    check_clean_apply(lab_cluster, run.doc, Audit(lab_cluster, since=mark), 2)
    first = next(iter(nodes.values()))
    verify = lab_cluster.run_cleaner(first, ["verify", "--cni", "flannel"])
    assert verify.rc == 0, verify.stdout

    again = run_cluster(lab_cluster, "apply", "--cni", "flannel", "--yes")
    assert again.rc == 0
    assert [s["kind"] for s in again.doc["steps"]] == ["run-jobs"]
    assert all(r["counts"]["applied"] == 0 for r in again.doc["node_results"])
    plan = run_cluster(lab_cluster, "plan", "--cni", "flannel")
    assert plan.rc == 0 and {r["verdict"] for r in plan.doc["node_plans"]} == {"clean"}


def test_node_powered_off_during_the_run_is_reported_then_cleaned(
    lab_cluster: Cluster,
) -> None:
    flannel_up(lab_cluster)
    victim = lab_cluster.nodes[-1]  # Jobs go in node order: this one's comes last
    mark = Audit.mark(lab_cluster)
    proc = subprocess.Popen(
        [
            CNISCRUB,
            "cluster",
            "apply",
            "--cni",
            "flannel",
            "--yes",
            "--parallel",
            "1",
            "--json",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={"KUBECONFIG": str(lab_cluster.kubeconfig), "PATH": "/usr/bin:/bin"},
    )
    try:

        def job_posted() -> bool:
            posts = Audit(lab_cluster, mark).cniscrub(("create",))
            return any(Audit.path(e).endswith("/jobs") for e in posts)

        until(job_posted, timeout=120, what="the first node Job")
        victim.stop()
        out, err = proc.communicate(timeout=180)
    finally:
        if proc.poll() is None:
            proc.kill()
    doc = json.loads(out)
    assert proc.returncode == 3 and doc["exit_code"] == 3, err
    down = node_result(doc, victim.name)
    assert down["verdict"] == "unreachable" and "re-run" in down["message"]
    others = [r for r in doc["node_results"] if r["node"] != victim.name]
    assert {r["verdict"] for r in others} == {"clean"}
    assert any(
        r["node"] == victim.name for r in doc["node_results"]
    )  # never skipped silently

    victim.start()

    def posting_again() -> bool:
        node = kubectl_json(lab_cluster, "get", "node", victim.name)
        ready = [c for c in node["status"]["conditions"] if c["type"] == "Ready"]
        return bool(ready) and ready[0]["status"] != "Unknown"

    until(posting_again, timeout=60, what=f"{victim.name} posting status again")
    assert residue(victim)  # the reboot took /run, the conflist and binary stayed
    rerun = run_cluster(lab_cluster, "apply", "--cni", "flannel", "--yes")
    assert rerun.rc == 0, rerun.stderr
    assert node_result(rerun.doc, victim.name)["verdict"] == "clean"
    assert residue(victim) == []


def test_plan_daemonset_plans_every_node_read_only(lab_cluster: Cluster) -> None:
    """deploy/plan-daemonset.yaml as shipped: each pod prints its node's plan (JSON)
    and the exit code, then sleeps; the host root is mounted read-only."""
    flannel_up(lab_cluster)
    manifest = manifest_text("plan-daemonset.yaml")
    selector = "app.kubernetes.io/component=node-plan"
    kubectl(lab_cluster, "apply", "-f", "-", input=manifest)
    try:

        def logs() -> dict[str, str]:
            pods = kubectl_json(
                lab_cluster, "-n", "kube-system", "get", "pods", "-l", selector
            )
            out = {}
            for pod in pods["items"]:
                name = pod["metadata"]["name"]
                res = kubectl(
                    lab_cluster, "-n", "kube-system", "logs", name, check=False
                )
                if "cniscrub exit code" in res.stdout:
                    out[pod["spec"]["nodeName"]] = res.stdout
            return out if len(out) == len(lab_cluster.nodes) else {}

        for node, log in until(logs, timeout=90, what="a plan from every node").items():
            doc, rest = split_log(log)
            assert doc is not None and doc["schema"] == "cniscrub/plan/v1", node
            assert doc["actions"] and "cniscrub exit code 2" in rest
    finally:
        kubectl(lab_cluster, "delete", "-f", "-", "--ignore-not-found", input=manifest)
    assert all(residue(n) for n in lab_cluster.nodes)  # a plan changes nothing
