"""The official ``kubernetes`` client against the API stand-in."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from kubernetes import client, utils, watch
from kubernetes.client.rest import ApiException

from harness.emulation.apiserver.threaded import ThreadedServer

FLANNEL_MANIFEST = Path(__file__).parent / "data" / "kube-flannel.yml"


def _node(name: str, **labels: str) -> client.V1Node:
    return client.V1Node(
        metadata=client.V1ObjectMeta(
            name=name, labels={"kubernetes.io/hostname": name, **labels}
        ),
        spec=client.V1NodeSpec(pod_cidr="10.244.1.0/24"),
    )


def _pod(name: str, node: str | None = None, **labels: str) -> client.V1Pod:
    return client.V1Pod(
        metadata=client.V1ObjectMeta(name=name, labels=labels),
        spec=client.V1PodSpec(
            node_name=node, containers=[client.V1Container(name="c", image="busybox")]
        ),
    )


def test_create_from_yaml_and_read_back(api_client: client.ApiClient) -> None:
    created = utils.create_from_yaml(api_client, str(FLANNEL_MANIFEST))
    assert len(created) == 6
    core = client.CoreV1Api(api_client)
    ns = core.read_namespace("kube-flannel")
    assert ns.status.phase == "Active"
    assert ns.metadata.labels["kubernetes.io/metadata.name"] == "kube-flannel"
    cm = core.read_namespaced_config_map("kube-flannel-cfg", "kube-flannel")
    assert "net-conf.json" in cm.data
    assert cm.metadata.uid and cm.metadata.creation_timestamp
    ds = client.AppsV1Api(api_client).read_namespaced_daemon_set(
        "kube-flannel-ds", "kube-flannel"
    )
    assert ds.spec.template.spec.service_account_name == "flannel"
    rbac = client.RbacAuthorizationV1Api(api_client)
    assert rbac.read_cluster_role_binding("flannel").subjects[0].name == "flannel"
    with pytest.raises(utils.FailToCreateError) as err:
        utils.create_from_yaml(api_client, str(FLANNEL_MANIFEST))
    assert all(e.status == 409 for e in err.value.api_exceptions)


def test_patch_node_and_status_strategic_merge(api_client: client.ApiClient) -> None:
    core = client.CoreV1Api(api_client)
    core.create_node(_node("node-a"))
    core.patch_node_status(
        "node-a",
        {"status": {"conditions": [{"type": "Ready", "status": "True"}]}},
    )
    core.patch_node_status(
        "node-a",
        {"status": {"conditions": [{"type": "NetworkUnavailable", "status": "False"}]}},
    )
    node = core.read_node("node-a")
    assert [(c.type, c.status) for c in node.status.conditions] == [
        ("Ready", "True"),
        ("NetworkUnavailable", "False"),
    ]
    core.patch_node("node-a", {"metadata": {"annotations": {"a": "1", "b": "2"}}})
    core.patch_node("node-a", {"metadata": {"annotations": {"a": None}}})
    core.patch_node("node-a", [{"op": "remove", "path": "/metadata/annotations/b"}])
    assert core.read_node("node-a").metadata.annotations is None


def test_list_with_label_and_field_selectors(api_client: client.ApiClient) -> None:
    core = client.CoreV1Api(api_client)
    core.create_node(_node("node-a", role="cp"))
    core.create_node(_node("node-b"))
    core.create_namespaced_pod("default", _pod("p1", "node-a", app="agent"))
    core.create_namespaced_pod("default", _pod("p2", "node-b", app="agent"))
    core.create_namespaced_pod("kube-system", _pod("p3", "node-a", app="other"))

    def names(result: object) -> list[str]:
        return sorted(i.metadata.name for i in result.items)  # type: ignore[attr-defined]

    assert names(core.list_node(label_selector="kubernetes.io/hostname=node-b")) == [
        "node-b"
    ]
    assert names(core.list_node(label_selector="!role")) == ["node-b"]
    assert names(core.list_namespaced_pod("default", label_selector="app=agent")) == [
        "p1",
        "p2",
    ]
    assert names(
        core.list_pod_for_all_namespaces(field_selector="spec.nodeName=node-a")
    ) == ["p1", "p3"]
    assert names(
        core.list_pod_for_all_namespaces(
            label_selector="app in (agent,other)",
            field_selector="metadata.namespace!=default,status.phase=Pending",
        )
    ) == ["p3"]
    listed = core.list_namespaced_pod("default")
    assert listed.kind == "PodList" and int(listed.metadata.resource_version) > 0
    assert {p.metadata.namespace for p in listed.items} == {"default"}


def test_status_reasons_404_409(api_client: client.ApiClient) -> None:
    core = client.CoreV1Api(api_client)
    with pytest.raises(ApiException) as missing:
        core.read_namespaced_config_map("nope", "default")
    assert missing.value.status == 404
    assert '"reason":"NotFound"' in missing.value.body
    assert 'configmaps \\"nope\\" not found' in missing.value.body
    cm = client.V1ConfigMap(metadata=client.V1ObjectMeta(name="c1"), data={"a": "1"})
    core.create_namespaced_config_map("default", cm)
    with pytest.raises(ApiException) as dup:
        core.create_namespaced_config_map("default", cm)
    assert dup.value.status == 409 and '"reason":"AlreadyExists"' in dup.value.body
    stale = core.read_namespaced_config_map("c1", "default")
    core.patch_namespaced_config_map("c1", "default", {"data": {"a": "2"}})
    stale.data = {"a": "3"}
    with pytest.raises(ApiException) as conflict:
        core.replace_namespaced_config_map("c1", "default", stale)
    assert conflict.value.status == 409 and '"reason":"Conflict"' in conflict.value.body
    with pytest.raises(ApiException) as no_ns:
        core.create_namespaced_config_map("ghost", cm)
    assert no_ns.value.status == 404 and 'namespaces \\"ghost\\"' in no_ns.value.body


def test_resource_version_and_generation(api_client: client.ApiClient) -> None:
    apps = client.AppsV1Api(api_client)
    utils.create_from_yaml(api_client, str(FLANNEL_MANIFEST))
    ds = apps.read_namespaced_daemon_set("kube-flannel-ds", "kube-flannel")
    rv0, gen0 = int(ds.metadata.resource_version), ds.metadata.generation
    assert gen0 == 1
    labelled = apps.patch_namespaced_daemon_set(
        "kube-flannel-ds", "kube-flannel", {"metadata": {"labels": {"x": "y"}}}
    )
    assert int(labelled.metadata.resource_version) > rv0
    assert labelled.metadata.generation == 1
    status = apps.patch_namespaced_daemon_set_status(
        "kube-flannel-ds", "kube-flannel", {"status": {"numberReady": 1}}
    )
    assert status.status.number_ready == 1 and status.metadata.generation == 1
    env = {"name": "EVENT_QUEUE_DEPTH", "value": "10"}
    spec_patch = {
        "spec": {
            "template": {
                "spec": {"containers": [{"name": "kube-flannel", "env": [env]}]}
            }
        }
    }
    changed = apps.patch_namespaced_daemon_set(
        "kube-flannel-ds", "kube-flannel", spec_patch
    )
    assert changed.metadata.generation == 2
    container = changed.spec.template.spec.containers[0]
    assert container.image == "ghcr.io/flannel-io/flannel:v0.26.4"
    assert {e.name: e.value for e in container.env}["EVENT_QUEUE_DEPTH"] == "10"
    assert len(container.env) == 3
    assert int(changed.metadata.resource_version) > int(
        status.metadata.resource_version
    )


def test_namespace_deletion_cascades(api_client: client.ApiClient) -> None:
    core = client.CoreV1Api(api_client)
    utils.create_from_yaml(api_client, str(FLANNEL_MANIFEST))
    core.create_namespaced_pod("kube-flannel", _pod("loose"))
    core.delete_namespace("kube-flannel")
    assert core.read_namespace("kube-flannel").status.phase == "Terminating"
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            core.read_namespace("kube-flannel")
        except ApiException as exc:
            assert exc.status == 404
            break
        time.sleep(0.05)
    else:
        pytest.fail("namespace kube-flannel was not removed within 5 s")
    assert core.list_namespaced_config_map("kube-flannel").items == []
    assert core.list_namespaced_pod("kube-flannel").items == []
    assert client.AppsV1Api(api_client).list_daemon_set_for_all_namespaces().items == []
    # cluster-scoped objects of the manifest are not namespace content
    client.RbacAuthorizationV1Api(api_client).read_cluster_role("flannel")


def test_watch_stream_ends_after_timeout(
    api_client: client.ApiClient, apiserver: ThreadedServer
) -> None:

    core = client.CoreV1Api(api_client)
    core.create_namespaced_pod("default", _pod("p0", app="w"))

    def churn() -> None:
        time.sleep(0.3)
        core.create_namespaced_pod("default", _pod("w1", app="w"))
        core.create_namespaced_pod("default", _pod("other", app="x"))
        core.delete_namespaced_pod("w1", "default")

    thread = threading.Thread(target=churn)
    thread.start()
    started = time.monotonic()
    seen = [
        (ev["type"], ev["object"].metadata.name)
        for ev in watch.Watch().stream(
            core.list_namespaced_pod,
            "default",
            label_selector="app=w",
            timeout_seconds=2,
            _request_timeout=10,
        )
    ]
    elapsed = time.monotonic() - started
    thread.join(5)
    assert seen == [("ADDED", "p0"), ("ADDED", "w1"), ("DELETED", "w1")]
    assert 1.8 <= elapsed < 5


def test_batch_jobs_and_pod_crud(api_client: client.ApiClient) -> None:
    batch = client.BatchV1Api(api_client)
    job = client.V1Job(
        metadata=client.V1ObjectMeta(name="j1"),
        spec=client.V1JobSpec(
            template=client.V1PodTemplateSpec(
                spec=client.V1PodSpec(
                    restart_policy="Never",
                    containers=[client.V1Container(name="c", image="busybox")],
                )
            )
        ),
    )
    batch.create_namespaced_job("default", job)
    assert [j.metadata.name for j in batch.list_namespaced_job("default").items] == [
        "j1"
    ]
    batch.patch_namespaced_job_status("j1", "default", {"status": {"succeeded": 1}})
    assert batch.read_namespaced_job("j1", "default").status.succeeded == 1
    batch.delete_namespaced_job("j1", "default", propagation_policy="Background")
    assert batch.list_namespaced_job("default").items == []
