"""In-process use of the API stand-in's Store: the contract controllers rely on
(pod termination by the kubelet, watches, subscriptions, events, garbage collection)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from harness.emulation.apiserver import ApiError, Change, Store


def _pod(name: str, node: str | None = "node-a", **meta: Any) -> dict[str, Any]:
    return {
        "metadata": {"name": name, **meta},
        "spec": {"nodeName": node, "containers": [{"name": "c", "image": "busybox"}]},
    }


def test_pod_on_kubelet_node_waits_for_finalize_pod() -> None:
    store = Store()
    store.register_kubelet("node-a")
    store.create("pods", _pod("p1"), "default")
    terminating = store.delete("pods", "p1", "default")
    meta = terminating["metadata"]
    assert meta["deletionTimestamp"] and meta["deletionGracePeriodSeconds"] == 30
    assert store.get("pods", "p1", "default")["metadata"]["deletionTimestamp"]
    again = store.delete("pods", "p1", "default", grace_period=5)
    assert again["metadata"]["deletionGracePeriodSeconds"] == 30
    removed = store.finalize_pod("p1", "default")
    assert removed is not None and removed["metadata"]["name"] == "p1"
    with pytest.raises(ApiError) as err:
        store.get("pods", "p1", "default")
    assert err.value.reason == "NotFound"
    assert store.finalize_pod("p1", "default") is None


def test_pod_deletion_policies() -> None:
    store = Store()
    store.create("pods", _pod("unmanaged"), "default")  # no kubelet on node-a
    store.create("pods", _pod("unscheduled", node=None), "default")
    store.delete("pods", "unmanaged", "default")
    store.delete("pods", "unscheduled", "default")
    assert store.list("pods") == []
    graceful = Store(pod_deletion="graceful")
    graceful.create("pods", _pod("p"), "default")
    graceful.delete("pods", "p", "default", grace_period=3)
    assert graceful.get("pods", "p")["metadata"]["deletionGracePeriodSeconds"] == 3
    graceful.delete("pods", "p", "default", grace_period=0)
    assert graceful.list("pods") == []
    with pytest.raises(ValueError):
        Store(pod_deletion="sometimes")


def test_finalizers_hold_an_object_until_removed() -> None:
    store = Store()
    store.create("configmaps", {"metadata": {"name": "c", "finalizers": ["x/y"]}})
    held = store.delete("configmaps", "c")
    assert held["metadata"]["deletionTimestamp"]
    store.patch("configmaps", "c", {"metadata": {"finalizers": None}}, "merge")
    assert store.list("configmaps") == []


def test_namespace_waits_for_terminating_pods() -> None:
    store = Store()  # no running loop: the cascade runs at once
    store.register_kubelet("node-a")
    store.create("namespaces", {"metadata": {"name": "kube-flannel"}})
    store.create("pods", _pod("flannel-1"), "kube-flannel")
    store.create("configmaps", {"metadata": {"name": "cfg"}}, "kube-flannel")
    store.delete("namespaces", "kube-flannel")
    assert store.get("namespaces", "kube-flannel")["status"]["phase"] == "Terminating"
    assert store.list("configmaps", "kube-flannel") == []
    with pytest.raises(ApiError) as err:
        store.create("configmaps", {"metadata": {"name": "late"}}, "kube-flannel")
    assert err.value.code == 403
    store.finalize_pod("flannel-1", "kube-flannel")
    assert store.list("namespaces", field_selector="metadata.name=kube-flannel") == []


def test_owner_garbage_collection_and_orphan() -> None:
    store = Store()
    store.register_kubelet("node-a")
    ds = store.create("daemonsets", {"metadata": {"name": "ds"}, "spec": {}}, "default")
    ref = {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "name": "ds",
        "uid": ds["metadata"]["uid"],
        "controller": True,
    }
    store.create("pods", _pod("ds-a", ownerReferences=[ref]), "default")
    store.create("pods", _pod("ds-b", node="node-b", ownerReferences=[ref]), "default")
    store.delete("daemonsets", "ds", "default")
    assert [p["metadata"]["name"] for p in store.list("pods")] == ["ds-a"]
    assert store.get("pods", "ds-a")["metadata"]["deletionTimestamp"]
    ds2 = store.create("daemonsets", {"metadata": {"name": "ds2"}, "spec": {}})
    ref2 = {**ref, "name": "ds2", "uid": ds2["metadata"]["uid"]}
    store.create("pods", _pod("kept", ownerReferences=[ref2]))
    store.delete("daemonsets", "ds2", propagation_policy="Orphan")
    assert "ownerReferences" not in store.get("pods", "kept")["metadata"]


def test_generation_conflict_and_noop_updates() -> None:
    store = Store()
    cm = store.create("configmaps", {"metadata": {"name": "c"}, "data": {"a": "1"}})
    same = store.patch("configmaps", "c", {"data": {"a": "1"}}, "merge")
    assert same["metadata"]["resourceVersion"] == cm["metadata"]["resourceVersion"]
    changed = store.patch("configmaps", "c", {"data": {"a": "2"}}, "strategic")
    assert changed["metadata"]["generation"] == 2
    assert int(changed["metadata"]["resourceVersion"]) > int(
        cm["metadata"]["resourceVersion"]
    )
    with pytest.raises(ApiError) as err:
        store.replace("configmaps", "c", cm)
    assert err.value.reason == "Conflict"
    with pytest.raises(ApiError) as bad:
        store.create("configmaps", {"kind": "Secret", "metadata": {"name": "s"}})
    assert bad.value.code == 400
    generated = store.create("configmaps", {"metadata": {"generateName": "gen-"}})
    assert generated["metadata"]["name"].startswith("gen-")
    applied = store.patch("configmaps", "ssa", {"data": {"x": "1"}}, "apply")
    assert applied["metadata"]["uid"] and applied["data"] == {"x": "1"}


def test_record_event_like_kubelet() -> None:
    store = Store()
    pod = store.create("pods", _pod("p1"), "kube-system")
    message = "failed to setup network for sandbox"
    first = store.record_event(pod, "FailedCreatePodSandBox", message, host="node-a")
    assert first["metadata"]["namespace"] == "kube-system"
    assert first["involvedObject"] == {
        "kind": "Pod",
        "apiVersion": "v1",
        "name": "p1",
        "namespace": "kube-system",
        "uid": pod["metadata"]["uid"],
        "resourceVersion": pod["metadata"]["resourceVersion"],
    }
    assert first["source"] == {"component": "kubelet", "host": "node-a"}
    assert (first["type"], first["count"]) == ("Warning", 1)
    second = store.record_event(pod, "FailedCreatePodSandBox", message, host="node-a")
    assert second["metadata"]["name"] == first["metadata"]["name"]
    assert second["count"] == 2
    node = store.create("nodes", {"metadata": {"name": "node-a"}})
    ev = store.record_event(node, "NodeReady", "ready", type="Normal")
    assert ev["metadata"]["namespace"] == "default"
    found = store.list(
        "events",
        "kube-system",
        field_selector="involvedObject.name=p1,reason=FailedCreatePodSandBox",
    )
    assert len(found) == 1


def test_watch_replay_selectors_and_subscribers() -> None:
    async def scenario() -> None:
        store = Store(namespace_cleanup_delay=0.05)
        seen: list[str] = []
        async_seen: list[str] = []

        async def async_cb(change: Change) -> None:
            async_seen.append(change.type)

        unsubscribe = store.subscribe("pods", lambda c: seen.append(c.type))
        store.subscribe("pods", async_cb)
        p = store.create("pods", _pod("a", labels={"app": "x"}))
        rv = p["metadata"]["resourceVersion"]
        store.create("pods", _pod("b", labels={"app": "y"}))
        store.patch("pods", "a", {"metadata": {"labels": {"app": "y"}}}, "merge")
        store.patch("pods", "a", {"metadata": {"labels": {"app": "x"}}}, "merge")
        store.delete("pods", "a")
        unsubscribe()
        store.create("pods", _pod("c"))
        await asyncio.sleep(0)
        assert seen == ["ADDED", "ADDED", "MODIFIED", "MODIFIED", "DELETED"]
        assert async_seen == [*seen, "ADDED"]

        events = []
        async with store.watch(
            "pods", "default", "app=x", resource_version=rv, timeout=0.2
        ) as stream:
            async for type_, obj in stream:
                events.append((type_, obj["metadata"]["name"]))
        assert events == [("DELETED", "a"), ("ADDED", "a"), ("DELETED", "a")]

        initial = [t async for t, _ in store.watch("pods", timeout=0.1)]
        assert initial == ["ADDED", "ADDED"]
        expired = [
            t async for t, _ in store.watch("pods", resource_version="0", timeout=0.05)
        ]
        assert expired == ["ADDED", "ADDED"]
        tiny = Store(history=2)
        for n in range(4):
            tiny.create("configmaps", {"metadata": {"name": f"c{n}"}})
        gone = [
            (t, o.get("reason"))
            async for t, o in tiny.watch("configmaps", resource_version="1")
        ]
        assert gone == [("ERROR", "Expired")]

    asyncio.run(asyncio.wait_for(scenario(), 10))


def test_consumers_get_private_copies() -> None:
    async def scenario() -> None:
        store = Store()

        def vandal(change: Change) -> None:
            change.obj["metadata"]["labels"] = {"vandal": "yes"}

        store.subscribe("configmaps", vandal)
        store.create("configmaps", {"metadata": {"name": "c"}, "data": {"a": "1"}})
        async with store.watch("configmaps", timeout=0.1) as stream:
            async for _, obj in stream:
                obj["data"]["a"] = "mutated"
        got = store.get("configmaps", "c")
        got["data"]["a"] = "mutated too"
        stored = store.get("configmaps", "c")
        assert stored["data"] == {"a": "1"}
        assert "labels" not in stored["metadata"]

        # a subscriber that edits its copy and writes it back really writes
        def kubelet(change: Change) -> None:
            if change.type == "ADDED" and change.resource.plural == "pods":
                change.obj["status"] = {"phase": "Running"}
                store.replace(
                    "pods",
                    change.obj["metadata"]["name"],
                    change.obj,
                    "default",
                    subresource="status",
                )

        store.subscribe("pods", kubelet)
        store.create("pods", _pod("p"))
        assert store.get("pods", "p")["status"] == {"phase": "Running"}

    asyncio.run(asyncio.wait_for(scenario(), 10))


def test_subscribers_see_changes_in_resource_version_order() -> None:
    store = Store()
    seen: dict[str, list[tuple[str, str]]] = {"first": [], "second": []}

    def first(change: Change) -> None:
        seen["first"].append((change.type, change.obj["metadata"]["resourceVersion"]))
        if change.type == "ADDED":
            store.patch("configmaps", "c", {"data": {"b": "2"}}, "merge")

    store.subscribe("configmaps", first)
    store.subscribe(
        "configmaps",
        lambda c: seen["second"].append((c.type, c.obj["metadata"]["resourceVersion"])),
    )
    store.create("configmaps", {"metadata": {"name": "c"}})
    assert seen["first"] == seen["second"]
    assert [t for t, _ in seen["second"]] == ["ADDED", "MODIFIED"]
    assert int(seen["second"][0][1]) < int(seen["second"][1][1])
