"""``cniscrub cluster plan|apply|verify`` against a fake in-process cluster (the API
stand-in, its Job controller and a scripted kubelet): what is found and why, the order
of the plan and of the requests (audit log), the parallel limit, per-node verdicts
from the nodes' own reports, unreachable nodes, dry runs and exit codes.

Facts: flannel-footprint.md §1.1 (objects, labels, the namespace's PodSecurity label),
§2.7 (node annotations and the NetworkUnavailable/FlannelIsUp condition; flanneld never
removes them).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Any

from cniscrub.cli.main import main
from tests.sandbox.cluster.cluster_lab import DELETE_ORDER
from tests.unit.cluster.conftest import Result
from tests.unit.cluster.fake_cluster import (
    FakeCluster,
    Script,
    apply_report,
    manifest_docs,
)

Cli = Callable[..., Result]
ORDER = DELETE_ORDER  # flannel-footprint.md §1.1, in dependency order


def _writes(fake: FakeCluster) -> list[dict[str, Any]]:
    return [
        e
        for e in fake.audit()
        if e["userAgent"].startswith("cniscrub/")
        and e["verb"] not in ("get", "list", "watch")
    ]


def _path(event: dict[str, Any]) -> str:
    return str(event["requestURI"]).split("?")[0]


def test_plan_finds_objects_pods_nodes_with_evidence(
    fake: FakeCluster, cli: Cli
) -> None:
    res = cli("plan", "--cni", "flannel", "--api-only", "--json")
    assert res.rc == 2
    doc = res.doc
    assert doc["schema"] == "cniscrub/cluster-plan/v1" and doc["node_plans"] is None
    found = {(o["kind"], o["name"]): o["evidence"] for o in doc["objects"]}
    assert found[("DaemonSet", "kube-flannel-ds")] == [
        "named kube-flannel-ds in the Flannel manifest",
        "label k8s-app=flannel",
        "label app=flannel",
    ]
    assert len(found) == 6
    assert sorted(p["node"] for p in doc["agent_pods"]) == sorted(fake.nodes)
    assert all(
        p["owner"] == "DaemonSet kube-flannel/kube-flannel-ds"
        for p in doc["agent_pods"]
    )
    node = doc["nodes"][0]
    assert (
        len(node["annotations"]) == 4 and node["condition"]["reason"] == "FlannelIsUp"
    )
    kinds = [s["kind"] for s in doc["steps"]]
    assert kinds == [
        "delete",
        "wait-pods",
        *["delete"] * 5,
        "run-jobs",
        *["clean-node"] * 3,
    ]
    deletes = [
        c["path"].split("?")[0]
        for s in doc["steps"]
        for c in s["calls"]
        if s["kind"] == "delete"
    ]
    assert deletes == ORDER
    assert _writes(fake) == []  # a plan changes nothing


def test_plan_keeps_others_things_and_names_the_next_cni(
    fake: FakeCluster, cli: Cli
) -> None:
    store = fake.store
    fake.call(
        store.create,
        "configmaps",
        {"metadata": {"name": "mine", "namespace": "kube-flannel"}},
    )
    # a Flannel-labelled object in kube-system: deleted, but never kube-system itself
    fake.call(
        store.create,
        "configmaps",
        {
            "metadata": {
                "name": "old-flannel-cfg",
                "namespace": "kube-system",
                "labels": {"app": "flannel"},
            }
        },
    )
    # another CNI's DaemonSet (mounts the node's CNI config dir) and its condition
    other = {
        "metadata": {"name": "calico-node", "namespace": "kube-system"},
        "spec": {
            "selector": {"matchLabels": {"k": "c"}},
            "template": {
                "metadata": {"labels": {"k": "c"}},
                "spec": {
                    "containers": [{"name": "c", "image": "calico"}],
                    "volumes": [
                        {"name": "cni", "hostPath": {"path": "/etc/cni/net.d"}}
                    ],
                },
            },
        },
    }
    fake.call(store.create, "daemonsets", other)

    def calico_condition() -> None:
        cond = {"type": "NetworkUnavailable", "status": "False", "reason": "CalicoIsUp"}
        store.patch(
            "nodes",
            fake.nodes[1],
            {"status": {"conditions": [cond]}},
            "strategic",
            subresource="status",
        )

    fake.call(calico_condition)
    doc = cli("plan", "--cni", "flannel", "--api-only", "--json").doc
    targets = [s["target"] for s in doc["steps"] if s["kind"] == "delete"]
    assert "ConfigMap kube-system/old-flannel-cfg" in targets
    assert "Namespace kube-flannel" not in targets
    kept = {k["target"]: k["why"] for k in doc["left_alone"]}
    assert "ConfigMap mine" in kept["Namespace kube-flannel"]
    assert "pod-security.kubernetes.io/enforce" in kept["Namespace kube-flannel"]
    assert "CalicoIsUp" in kept[f"Node {fake.nodes[1]} condition NetworkUnavailable"]
    assert doc["next_cni"] == [
        {
            "name": "unknown",
            "object": "DaemonSet kube-system/calico-node",
            "evidence": "mounts the node's /etc/cni/net.d",
        }
    ]
    node_steps = [s for s in doc["steps"] if s["target"] == f"Node {fake.nodes[1]}"]
    assert all(
        "/status" not in c["path"] for c in node_steps[0]["calls"]
    )  # not CalicoIsUp


def test_apply_in_order_at_most_n_jobs_and_reports(fake: FakeCluster, cli: Cli) -> None:
    fake.scripts[fake.nodes[1]] = Script(3, apply_report(2, exit_code=3))
    refused = {
        "schema": "cniscrub/error/v1",
        "error": "preflight: flanneld is running",
        "exit_code": 6,
    }
    fake.scripts[fake.nodes[2]] = Script(6, json.dumps(refused) + "\n")
    res = cli("apply", "--cni", "flannel", "--yes", "--parallel", "2", "--json")
    assert res.rc == 3 and not res.doc["clean"]
    verdicts = {
        r["node"]: (r["verdict"], r["exit_code"]) for r in res.doc["node_results"]
    }
    assert verdicts == {
        fake.nodes[0]: ("clean", 0),
        fake.nodes[1]: ("partial", 3),
        fake.nodes[2]: ("refused", 6),
    }
    first = res.doc["node_results"][0]
    assert (
        first["counts"]["applied"] == 3
        and first["journal"] == "/var/lib/cniscrub/journal/x-1"
    )
    assert first["report"]["schema"] == "cniscrub/apply/v1"  # the node's own document
    assert res.doc["node_results"][2]["message"] == "preflight: flanneld is running"
    writes = _writes(fake)
    deletes = [
        _path(e) for e in writes if e["verb"] == "delete" and "/jobs/" not in _path(e)
    ]
    assert deletes == ORDER
    jobs, open_, most = [], set(), 0
    for e in writes:
        if e["verb"] == "create":
            open_.add(e["objectRef"]["name"])
            jobs.append(e["objectRef"]["name"])
        elif "/jobs/" in _path(e) and e["verb"] == "delete":
            open_.discard(_path(e).rsplit("/", 1)[1])
        most = max(most, len(open_))
    assert most == 2 and len(jobs) == 3  # the limit was reached, never passed
    finals = [  # the kubelets' last word on the agent's pods
        e
        for e in fake.audit()
        if e["user"]["username"].startswith("system:node:")
        and "/namespaces/kube-flannel/pods/" in e["requestURI"]
    ]
    assert len(finals) == 3
    first_post = next(e for e in writes if e["verb"] == "create")
    assert (
        max(e["stageTimestamp"] for e in finals)
        <= first_post["requestReceivedTimestamp"]
    )
    for name in fake.nodes:
        node = fake.get("nodes", name)
        assert not any(
            k.startswith("flannel.alpha")
            for k in node["metadata"].get("annotations", {})
        )
        assert [c["type"] for c in node["status"]["conditions"]] == ["Ready"]
    assert (
        fake.list("jobs", "kube-system") == []
    )  # deleted once their reports were read


def test_unreachable_nodes_are_reported_and_left(fake: FakeCluster, cli: Cli) -> None:
    down = fake.nodes[2]
    fake.down.add(down)
    fake.set_ready(down, "Unknown")
    res = cli("apply", "--cni", "flannel", "--yes", "--json")
    assert res.rc == 3
    result = next(r for r in res.doc["node_results"] if r["node"] == down)
    assert result["verdict"] == "unreachable" and result["job"] is None
    assert (
        f"kube-flannel/kube-flannel-ds-{down} on {down} (unreachable)"
        in res.doc["waited_out"]
    )
    assert {r["verdict"] for r in res.doc["node_results"] if r["node"] != down} == {
        "clean"
    }
    posts = [e["objectRef"]["name"] for e in _writes(fake) if e["verb"] == "create"]
    assert not any(down in p for p in posts)  # no Job for it
    # back again: a re-run cleans it and converges
    fake.down.discard(down)
    fake.set_ready(down, "True")
    again = cli("apply", "--cni", "flannel", "--yes", "--json")
    assert again.rc == 0
    assert (
        next(r for r in again.doc["node_results"] if r["node"] == down)["verdict"]
        == "clean"
    )
    last = cli("apply", "--cni", "flannel", "--yes", "--json")
    assert last.rc == 0 and [s["kind"] for s in last.doc["steps"]] == ["run-jobs"]


def test_node_lost_while_its_job_runs(fake: FakeCluster, cli: Cli) -> None:
    slow = fake.nodes[1]
    fake.scripts[slow] = Script(seconds=60)

    def lose_it_once_its_job_runs() -> None:
        for _ in range(300):
            if any(
                j["spec"]["template"]["spec"]["nodeName"] == slow
                for j in fake.list("jobs", "kube-system")
            ):
                fake.down.add(slow)
                fake.set_ready(slow, "Unknown")
                return
            time.sleep(0.02)

    thread = threading.Thread(target=lose_it_once_its_job_runs, daemon=True)
    thread.start()
    res = cli("apply", "--cni", "flannel", "--yes", "--json", "--timeout", "30")
    thread.join(5)
    result = next(r for r in res.doc["node_results"] if r["node"] == slow)
    assert res.rc == 3 and result["verdict"] == "unreachable"
    assert "before its cleaner finished" in result["message"]
    assert result["job"] == f"cniscrub-clean-{slow}"
    assert fake.list("jobs", "kube-system") == []  # its Job was deleted


def test_timeout_and_image_that_cannot_be_pulled(fake: FakeCluster, cli: Cli) -> None:
    res = cli(
        "apply", "--cni", "flannel", "--yes", "--json", "--image", "missing/cniscrub:1"
    )
    assert res.rc == 3
    assert {r["verdict"] for r in res.doc["node_results"]} == {"failed"}
    assert "ErrImagePull" in res.doc["node_results"][0]["message"]
    fake.scripts[fake.nodes[0]] = Script(seconds=60)
    res = cli("apply", "--cni", "flannel", "--yes", "--json", "--timeout", "2")
    timed = next(r for r in res.doc["node_results"] if r["node"] == fake.nodes[0])
    assert timed["verdict"] == "timeout" and res.rc == 3
    assert fake.list("jobs", "kube-system") == []


def test_dry_run_prints_every_request_and_job(fake: FakeCluster, cli: Cli) -> None:
    res = cli("apply", "--cni", "flannel", "--dry-run")
    assert res.rc == 2
    for path in ORDER:
        assert f"DELETE {path}?propagationPolicy=Background" in res.out
    assert res.out.count("kind: Job") == 3 and res.out.count("privileged: true") == 3
    for node in fake.nodes:
        assert f"PATCH /api/v1/nodes/{node} " in res.out
        assert f"nodeName: {node}" in res.out
    assert _writes(fake) == []
    doc = cli("apply", "--cni", "flannel", "--dry-run", "--json").doc
    assert doc["dry_run"] is True and "node_results" not in doc
    assert _writes(fake) == []


def test_verify_and_plan_node_jobs_exit_codes(fake: FakeCluster, cli: Cli) -> None:
    residue = {"schema": "cniscrub/verify/v1", "residue": [{"id": 1}], "exit_code": 2}
    fake.scripts[fake.nodes[0]] = Script(2, json.dumps(residue) + "\n")
    res = cli("verify", "--cni", "flannel", "--json")
    assert res.rc == 2 and res.doc["schema"] == "cniscrub/cluster-verify/v1"
    assert res.doc["node_results"][0]["verdict"] == "residue"
    posted = [e for e in _writes(fake) if e["verb"] == "create"]
    assert len(posted) == 3 and all(
        "cniscrub-verify-" in e["objectRef"]["name"] for e in posted
    )
    plan_doc = {"schema": "cniscrub/plan/v1", "actions": [], "exit_code": 0}
    for node in fake.nodes:
        fake.scripts[node] = Script(0, json.dumps(plan_doc) + "\n")
    res = cli("plan", "--cni", "flannel", "--json")
    assert res.rc == 2  # the API side is still pending
    assert {r["verdict"] for r in res.doc["node_plans"]} == {"clean"}


def test_an_earlier_runs_job_is_replaced(fake: FakeCluster, cli: Cli) -> None:
    from cniscrub.cluster.jobs import build_job

    old = build_job(
        fake.nodes[0],
        "apply",
        "flannel",
        image="x:1",
        namespace="kube-system",
        run_id="old",
        deadline=9,
    )
    fake.call(fake.store.create, "jobs", old)
    res = cli("apply", "--cni", "flannel", "--yes", "--json")
    assert res.rc == 0, res.err
    deleted = [
        _path(e)
        for e in _writes(fake)
        if e["verb"] == "delete" and "/jobs/" in _path(e)
    ]
    assert (
        deleted.count(
            f"/apis/batch/v1/namespaces/kube-system/jobs/cniscrub-clean-{fake.nodes[0]}"
        )
        == 2
    )


def test_nodes_selector_limits_the_node_work(fake: FakeCluster, cli: Cli) -> None:
    res = cli("apply", "--cni", "flannel", "--yes", "--json", "--nodes", "pool=workers")
    assert res.rc == 0
    workers = [n for n in fake.nodes if "worker" in n]
    assert [r["node"] for r in res.doc["node_results"]] == workers
    assert fake.list("daemonsets", "kube-flannel") == []  # API objects are cluster-wide
    control = fake.get("nodes", fake.nodes[0])
    assert control["metadata"]["annotations"].get("flannel.alpha.coreos.com/public-ip")
    patched = {_path(e) for e in _writes(fake) if e["verb"] == "patch"}
    assert patched == {
        f"/api/v1/nodes/{n}{s}" for n in workers for s in ("", "/status")
    }
    none = cli(
        "plan", "--cni", "flannel", "--api-only", "--json", "--nodes", "pool=gpu"
    )
    assert none.doc["warnings"] == ["no node matches --nodes pool=gpu"]


def test_an_older_layout_in_kube_system_is_found_by_labels_and_use(
    tmp_path: Any, capsys: Any, monkeypatch: Any
) -> None:
    """Flannel laid out the way older manifests did: everything in kube-system, the
    DaemonSet named differently, no k8s-app labels. kube-system itself stays."""
    docs = []
    for doc in manifest_docs():
        if doc["kind"] == "Namespace":
            continue
        meta = doc["metadata"]
        meta["labels"] = {
            k: v for k, v in (meta.get("labels") or {}).items() if k != "k8s-app"
        }
        if meta.get("namespace"):
            meta["namespace"] = "kube-system"
        if doc["kind"] == "DaemonSet":
            meta["name"] = "kube-flannel-ds-amd64"
        if doc["kind"] == "ClusterRoleBinding":
            doc["subjects"][0]["namespace"] = "kube-system"
        docs.append(doc)
    fake = FakeCluster(tmp_path, nodes=2, docs=docs)
    try:
        monkeypatch.setenv("KUBECONFIG", str(fake.kubeconfig))
        assert main(["cluster", "apply", "--cni", "flannel", "--yes", "--json"]) == 0
        doc = json.loads(capsys.readouterr().out)
        found = {
            (o["kind"], o["namespace"], o["name"]): o["evidence"]
            for o in doc["objects"]
        }
        assert found[("DaemonSet", "kube-system", "kube-flannel-ds-amd64")] == [
            "label app=flannel"
        ]
        assert (
            "used by DaemonSet kube-system/kube-flannel-ds-amd64"
            in found[("ServiceAccount", "kube-system", "flannel")]
        )
        assert len(found) == 5
        assert fake.list("daemonsets", "kube-system") == []
        assert fake.list("serviceaccounts", "kube-system") == []
        assert fake.get("namespaces", "kube-system")  # never deleted
        assert [r["verdict"] for r in doc["node_results"]] == ["clean", "clean"]
    finally:
        fake.stop()


def test_text_output_plan_and_summary_table(fake: FakeCluster, cli: Cli) -> None:
    plan = cli("plan", "--cni", "flannel", "--api-only")
    assert plan.rc == 2
    assert "  1. delete     DaemonSet kube-flannel/kube-flannel-ds" in plan.out
    assert "because named kube-flannel-ds in the Flannel manifest" in plan.out
    assert "next CNI: none found" in plan.out
    res = cli("apply", "--cni", "flannel", "--yes")
    assert res.rc == 0
    assert "cniscrub cluster apply: 3/3 node(s) clean" in res.out
    for node in fake.nodes:
        row = next(line for line in res.out.splitlines() if f" {node} " in line)
        assert (
            "clean" in row
            and "applied=3" in row
            and "/var/lib/cniscrub/journal/x-1" in row
        )
    assert "cniscrub cluster: [3/3]" in res.err  # progress, one line per node


def test_jobs_that_cannot_be_created_fail_their_nodes(
    fake: FakeCluster, cli: Cli
) -> None:
    res = cli("verify", "--cni", "flannel", "--json", "--namespace", "no-such-ns")
    assert res.rc == 2  # the API side still holds Flannel
    assert {r["verdict"] for r in res.doc["node_results"]} == {"failed"}
    assert 'namespaces "no-such-ns" not found' in res.doc["node_results"][0]["message"]
