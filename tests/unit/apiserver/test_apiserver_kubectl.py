"""kubectl 1.32 against the API stand-in: the acceptance commands of issue 3."""

from __future__ import annotations

import asyncio
import json
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from harness.emulation.apiserver.threaded import ThreadedServer

FLANNEL_MANIFEST = Path(__file__).parent / "data" / "kube-flannel.yml"
KubectlRunner = Callable[..., subprocess.CompletedProcess[str]]


NODE = {
    "apiVersion": "v1",
    "kind": "Node",
    "metadata": {"name": "node-a", "labels": {"kubernetes.io/hostname": "node-a"}},
    "spec": {"podCIDR": "10.244.0.0/24"},
    "status": {"conditions": [{"type": "Ready", "status": "True"}]},
}


def _pod(name: str, labels: dict[str, str] | None = None) -> str:
    return json.dumps(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": name, "labels": labels or {}},
            "spec": {"containers": [{"name": "c", "image": "busybox"}]},
        }
    )


def test_apply_twice_get_delete_flannel_manifest(kubectl: KubectlRunner) -> None:
    first = kubectl("apply", "-f", str(FLANNEL_MANIFEST))
    assert first.stdout.splitlines() == [
        "namespace/kube-flannel created",
        "clusterrole.rbac.authorization.k8s.io/flannel created",
        "clusterrolebinding.rbac.authorization.k8s.io/flannel created",
        "serviceaccount/flannel created",
        "configmap/kube-flannel-cfg created",
        "daemonset.apps/kube-flannel-ds created",
    ]
    assert "validate=false" not in first.stderr
    second = kubectl("apply", "-f", str(FLANNEL_MANIFEST))
    assert all(line.endswith(" unchanged") for line in second.stdout.splitlines())
    assert len(second.stdout.splitlines()) == 6

    ds = json.loads(kubectl("get", "ds", "-n", "kube-flannel", "-o", "json").stdout)
    [item] = ds["items"]
    assert item["kind"] == "DaemonSet"
    raw = kubectl("get", "--raw", "/apis/apps/v1/namespaces/kube-flannel/daemonsets")
    assert json.loads(raw.stdout)["kind"] == "DaemonSetList"
    assert item["metadata"]["namespace"] == "kube-flannel"
    assert item["metadata"]["generation"] == 1
    assert item["metadata"]["uid"]
    assert [c["name"] for c in item["spec"]["template"]["spec"]["initContainers"]] == [
        "install-cni-plugin",
        "install-cni",
    ]
    names = kubectl("get", "-f", str(FLANNEL_MANIFEST), "-o", "name").stdout.split()
    assert "daemonset.apps/kube-flannel-ds" in names

    deleted = kubectl("delete", "-f", str(FLANNEL_MANIFEST), timeout=60)
    assert deleted.stdout.count(" deleted") == 6
    gone = kubectl("get", "ns", "kube-flannel", check=False)
    assert gone.returncode == 1
    assert 'namespaces "kube-flannel" not found' in gone.stderr
    again = kubectl("delete", "-f", str(FLANNEL_MANIFEST), "--ignore-not-found")
    assert again.stdout == ""


def test_apply_changed_manifest_bumps_generation(kubectl: KubectlRunner) -> None:
    kubectl("apply", "-f", str(FLANNEL_MANIFEST))
    changed = FLANNEL_MANIFEST.read_text().replace("v0.26.4", "v0.26.5")
    out = kubectl("apply", "-f", "-", input=changed).stdout
    assert "daemonset.apps/kube-flannel-ds configured" in out
    assert "configmap/kube-flannel-cfg unchanged" in out
    gen = kubectl(
        "get",
        "ds",
        "kube-flannel-ds",
        "-n",
        "kube-flannel",
        "-o",
        "jsonpath={.metadata.generation}",
    ).stdout
    assert gen == "2"


def test_annotate_label_status_patch_and_selectors(kubectl: KubectlRunner) -> None:
    kubectl("create", "-f", "-", input=json.dumps(NODE))
    kubectl("annotate", "node", "node-a", "flannel.alpha.coreos.com/public-ip=10.0.0.1")
    kubectl("label", "node", "node-a", "role=worker")
    assert kubectl("get", "nodes", "-l", "role=worker", "-o", "name").stdout == (
        "node/node-a\n"
    )
    assert kubectl("get", "nodes", "-l", "role!=worker", "-o", "name").stdout == ""
    assert kubectl("get", "nodes", "-l", "role in (a,worker)", "-o", "name").stdout
    kubectl(
        "patch",
        "node",
        "node-a",
        "--subresource=status",
        "--type=strategic",
        "-p",
        '{"status":{"conditions":[{"type":"NetworkUnavailable",'
        '"status":"False","reason":"FlannelIsUp"}]}}',
    )
    kubectl(
        "patch",
        "node",
        "node-a",
        "--subresource=status",
        "--type=merge",
        "-p",
        '{"status":{"capacity":{"cpu":"2"}}}',
    )
    node = json.loads(kubectl("get", "node", "node-a", "-o", "json").stdout)
    assert [c["type"] for c in node["status"]["conditions"]] == [
        "Ready",
        "NetworkUnavailable",
    ]
    assert node["status"]["capacity"] == {"cpu": "2"}
    assert node["metadata"]["annotations"] == {
        "flannel.alpha.coreos.com/public-ip": "10.0.0.1"
    }
    assert node["metadata"]["labels"]["role"] == "worker"
    assert node["metadata"]["generation"] == 1
    kubectl("annotate", "node", "node-a", "flannel.alpha.coreos.com/public-ip-")
    kubectl("label", "node", "node-a", "role-")
    node = json.loads(kubectl("get", "node", "node-a", "-o", "json").stdout)
    assert "annotations" not in node["metadata"]
    assert "role" not in node["metadata"]["labels"]


def test_status_patch_leaves_spec_alone(kubectl: KubectlRunner) -> None:
    kubectl("create", "-f", "-", input=json.dumps(NODE))
    kubectl(
        "patch",
        "node",
        "node-a",
        "--subresource=status",
        "--type=merge",
        "-p",
        '{"spec":{"podCIDR":"10.9.9.0/24"},"status":{"phase":"x"}}',
    )
    spec = kubectl("get", "node", "node-a", "-o", "jsonpath={.spec.podCIDR}").stdout
    assert spec == "10.244.0.0/24"


def test_wait_for_delete(kubectl: KubectlRunner) -> None:
    kubectl("create", "-f", "-", input=_pod("doomed", {"app": "x"}))
    waiter = subprocess.Popen(
        [kubectl.binary, "wait", "--for=delete", "pod/doomed", "--timeout=20s"],  # type: ignore[attr-defined]
        env=kubectl.env,  # type: ignore[attr-defined]
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        time.sleep(0.5)
        assert waiter.poll() is None, "kubectl wait returned before the delete"
        kubectl("delete", "pod", "doomed")
        out, err = waiter.communicate(timeout=20)
    finally:
        if waiter.poll() is None:
            waiter.kill()
            waiter.wait(5)
    assert waiter.returncode == 0, err
    assert "pod/doomed condition met" in out


def test_get_watch_with_timeout_streams_changes(
    kubectl: KubectlRunner, apiserver: ThreadedServer
) -> None:

    kubectl("create", "-f", "-", input=_pod("w1", {"app": "w"}))

    def later() -> None:
        time.sleep(0.7)
        apiserver.call(
            apiserver.store.create, "pods", json.loads(_pod("w2", {"app": "w"}))
        )

    thread = threading.Thread(target=later)
    thread.start()
    started = time.monotonic()
    proc = kubectl(
        "get",
        "pods",
        "-l",
        "app=w",
        "-w",
        "--request-timeout=3s",
        "-o",
        "name",
        check=False,
        timeout=20,
    )
    thread.join(5)
    assert time.monotonic() - started < 15
    assert "pod/w1" in proc.stdout
    assert "pod/w2" in proc.stdout


def test_protobuf_generators_get_415(kubectl: KubectlRunner) -> None:
    proc = kubectl("create", "configmap", "cm1", "--from-literal=a=b", check=False)
    assert proc.returncode != 0
    piped = kubectl(
        "create",
        "configmap",
        "cm1",
        "--from-literal=a=b",
        "--dry-run=client",
        "-o",
        "yaml",
    ).stdout
    kubectl("create", "-f", "-", input=piped)
    assert kubectl("get", "cm", "cm1", "-o", "jsonpath={.data.a}").stdout == "b"


def test_server_side_apply_replace_and_force_delete(kubectl: KubectlRunner) -> None:
    out = kubectl("apply", "--server-side", "-f", str(FLANNEL_MANIFEST)).stdout
    assert out.count("serverside-applied") == 6
    ds = kubectl("get", "ds", "kube-flannel-ds", "-n", "kube-flannel", "-o", "yaml")
    replaced = ds.stdout.replace("EVENT_QUEUE_DEPTH", "EVENT_QUEUE_LENGTH")
    assert "replaced" in kubectl("replace", "-f", "-", input=replaced).stdout
    kubectl("create", "-f", "-", input=_pod("forced"))
    forced = kubectl("delete", "pod", "forced", "--grace-period=0", "--force")
    assert 'pod "forced" force deleted' in forced.stdout
    assert kubectl("get", "pods", "-o", "name").stdout == ""


def test_delete_waits_for_the_kubelet_to_finalize(
    kubectl: KubectlRunner, apiserver: ThreadedServer
) -> None:
    store = apiserver.store
    apiserver.call(store.register_kubelet, "node-a")
    pod = json.loads(_pod("on-node"))
    pod["spec"]["nodeName"] = "node-a"
    kubectl("create", "-f", "-", input=json.dumps(pod))

    def kubelet(change: Any) -> None:  # a minimal emulated kubelet
        meta = change.obj["metadata"]
        if change.type == "MODIFIED" and meta.get("deletionTimestamp"):
            loop = asyncio.get_running_loop()
            loop.call_later(0.5, store.finalize_pod, meta["name"], meta["namespace"])

    apiserver.call(store.subscribe, "pods", kubelet)
    started = time.monotonic()
    out = kubectl("delete", "pod", "on-node", timeout=20).stdout
    assert 'pod "on-node" deleted' in out
    assert time.monotonic() - started >= 0.5, "kubectl did not wait for the kubelet"
    assert kubectl("get", "pods", "-o", "name").stdout == ""


def test_default_table_output_columns(kubectl: KubectlRunner) -> None:
    node = json.loads(json.dumps(NODE))
    node["metadata"]["labels"]["node-role.kubernetes.io/control-plane"] = ""
    node["status"]["nodeInfo"] = {"kubeletVersion": "v1.32.4"}
    kubectl("create", "-f", "-", input=json.dumps(node))
    nodes = kubectl("get", "nodes").stdout.split("\n")
    assert nodes[0].split() == ["NAME", "STATUS", "ROLES", "AGE", "VERSION"]
    assert nodes[1].split()[:3] == ["node-a", "Ready", "control-plane"]
    assert nodes[1].split()[-1] == "v1.32.4"
    kubectl("create", "-f", "-", input=_pod("p1", {"app": "t"}))
    pods = kubectl("get", "pods", "--show-labels").stdout.split("\n")
    assert pods[0].split() == ["NAME", "READY", "STATUS", "RESTARTS", "AGE", "LABELS"]
    assert pods[1].split()[:4] == ["p1", "0/1", "Pending", "0"]
    assert pods[1].split()[-1] == "app=t"


def test_delete_namespace_waits_for_its_content(kubectl: KubectlRunner) -> None:
    kubectl("apply", "-f", str(FLANNEL_MANIFEST))
    started = time.monotonic()
    out = kubectl("delete", "namespace", "kube-flannel", timeout=30).stdout
    assert out == 'namespace "kube-flannel" deleted\n'
    assert time.monotonic() - started >= 0.9  # Terminating until content is gone
    assert kubectl("get", "cm,sa,ds", "-n", "kube-flannel", "-o", "name").stdout == ""
    assert kubectl("get", "clusterrole", "flannel", "-o", "name").stdout == (
        "clusterrole.rbac.authorization.k8s.io/flannel\n"
    )
