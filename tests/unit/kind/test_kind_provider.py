"""The kind provider's exact call sequences, recorded: kind/kubectl argv (including the
ones pytest-kind runs itself) and docker SDK calls, for create, CNI install, reboot,
stop/start, image load, the cleaner Job and delete. No engine, no kind binary.

Facts: harness-anchors.md §1 (pytest-kind's create/delete/load argv, silent reuse),
§8 (kind's node names and labels, plugins per node, reboot = docker restart).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from kind_fakes import FakeDocker, KindWorld

from harness.providers.base import ClusterSpec, NodeNotRunning, ProviderError
from harness.providers.kind.cni import REFERENCE_PLUGINS
from harness.providers.kind.provider import KindProvider
from harness.wait import WaitTimeout

MANIFEST = (
    Path(__file__).resolve().parents[3] / "fixtures/manifests/kube-flannel-v0.27.3.yml"
)


def kind_calls(world: KindWorld) -> list[list[str]]:
    """Recorded argv with the binaries' directories dropped (kind, kubectl)."""
    return [[Path(a[0]).name, *a[1:]] for a in world.calls]


def test_create_runs_pytest_kind_with_our_config_and_copies_plugins_per_node(
    provider: KindProvider, world: KindWorld, fake_docker: FakeDocker
) -> None:
    cluster = provider.create(ClusterSpec(name="kt", nodes=3))
    state = provider.home / "kt"
    assert kind_calls(world) == [
        ["kind", "get", "clusters"],  # ours: is the name taken?
        ["kind", "get", "clusters"],  # pytest-kind's own check
        [
            "kind",
            "create",
            "cluster",
            "--name=kt",
            f"--kubeconfig={state / 'kubeconfig'}",
            "--config",
            str(state / "kind-config.yaml"),
        ],
    ]
    assert (state / "kind-config.yaml").read_text() == (
        "kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnetworking:\n"
        "  disableDefaultCNI: true\n  podSubnet: 10.244.0.0/16\nnodes:\n"
        "- role: control-plane\n- role: worker\n- role: worker\n"
    )
    assert [n.name for n in cluster.nodes] == [
        "kt-control-plane",
        "kt-worker",
        "kt-worker2",
    ]
    assert [n.role for n in cluster.nodes] == ["control-plane", "worker", "worker"]
    copies = [c for c in fake_docker.calls if c[0] == "put_archive"]
    plugins = [(name, "0o755") for name in sorted(REFERENCE_PLUGINS)]
    # one archive per node, never a shared mount (harness-anchors.md §8)
    assert copies == [
        ("put_archive", node, "/opt/cni/bin", plugins)
        for node in ("kt-control-plane", "kt-worker", "kt-worker2")
    ]
    mkdirs = [c for c in fake_docker.calls if c[0] == "exec_create"]
    assert all(c[2][3:] == ["mkdir", "-p", "--", "/opt/cni/bin"] for c in mkdirs)
    assert cluster.kubeconfig == state / "kubeconfig"
    assert cluster.node("kt-worker").address == "172.18.0.3"


def test_kind_bin_set_keeps_kinds_own_plugins(
    provider: KindProvider, fake_docker: FakeDocker
) -> None:
    provider.create(ClusterSpec(name="kt", nodes=2, cni_bin_set="kind"))
    assert not [c for c in fake_docker.calls if c[0] == "put_archive"]


def test_an_existing_cluster_with_another_config_is_never_reused(
    provider: KindProvider, world: KindWorld
) -> None:
    provider.create(ClusterSpec(name="kt", nodes=2))
    world.calls.clear()
    with pytest.raises(ProviderError, match="already exists with another config"):
        provider.create(ClusterSpec(name="kt", nodes=3))
    assert ["create", "cluster"] not in [c[1:3] for c in world.calls]


def test_a_cluster_not_made_by_us_is_neither_reused_nor_deleted(
    provider: KindProvider, world: KindWorld
) -> None:
    world.clusters.add("pytest-kind")  # e.g. pytest-kind's default cluster
    with pytest.raises(ProviderError, match="no record of being created by cniscrub"):
        provider.create(ClusterSpec(name="pytest-kind", nodes=1))
    with pytest.raises(ProviderError, match="not created by cniscrub"):
        provider.delete("pytest-kind")
    assert "pytest-kind" in world.clusters
    assert provider.list_clusters() == []


def test_a_kept_cluster_with_the_same_config_is_reused(
    provider: KindProvider, world: KindWorld
) -> None:
    provider.create(ClusterSpec(name="kt", nodes=2))
    world.calls.clear()
    again = provider.create(ClusterSpec(name="kt", nodes=2))
    assert kind_calls(world) == [["kind", "get", "clusters"]]
    assert [n.name for n in again.nodes] == ["kt-control-plane", "kt-worker"]
    assert provider.list_clusters() == ["kt"]


def test_delete_runs_kind_delete_and_is_idempotent(
    provider: KindProvider, world: KindWorld, fake_docker: FakeDocker
) -> None:
    provider.create(ClusterSpec(name="kt", nodes=2))
    world.calls.clear()
    assert provider.delete("kt") is True
    state = provider.home / "kt"
    assert kind_calls(world) == [
        ["kind", "get", "clusters"],
        [
            "kind",
            "delete",
            "cluster",
            "--name=kt",
            f"--kubeconfig={state / 'kubeconfig'}",
        ],
    ]
    assert not state.exists() and not fake_docker.containers.list()
    world.calls.clear()
    assert provider.delete("kt") is False
    assert kind_calls(world) == [["kind", "get", "clusters"]]


def test_a_failed_create_deletes_what_it_made(
    provider: KindProvider, world: KindWorld, tools: Path
) -> None:
    (tools / "cni" / "bridge").unlink()  # the plugin copy fails after kind create
    with pytest.raises(ProviderError, match="reference CNI plugins"):
        provider.create(ClusterSpec(name="kt", nodes=2))
    assert kind_calls(world)[-1][:3] == ["kind", "delete", "cluster"]
    assert world.clusters == set() and not (provider.home / "kt").exists()


def test_install_applies_the_manifest_and_waits_for_its_daemonset_and_nodes(
    provider: KindProvider, world: KindWorld
) -> None:
    cluster = provider.create(ClusterSpec(name="kt", nodes=2))
    world.calls.clear()
    cluster.install_cni(MANIFEST, timeout=90)
    kubeconfig = ["--kubeconfig", str(cluster.kubeconfig)]
    assert kind_calls(world) == [
        ["kubectl", *kubeconfig, "apply", "-f", str(MANIFEST)],
        [
            "kubectl",
            *kubeconfig,
            "-n",
            "kube-flannel",
            "rollout",
            "status",
            "daemonset/kube-flannel-ds",
            "--timeout=90s",
        ],
        ["kubectl", *kubeconfig, "get", "nodes", "-o", "json"],
    ]


def test_reboot_restarts_the_container_and_waits_for_a_fresh_ready(
    provider: KindProvider, world: KindWorld, fake_docker: FakeDocker
) -> None:
    cluster = provider.create(ClusterSpec(name="kt", nodes=2))
    world.calls.clear()
    fake_docker.calls.clear()
    cluster.node("kt-worker").reboot()
    assert fake_docker.calls == [("restart", "kt-worker", 10)]
    gets = kind_calls(world)
    assert gets[0][-4:] == ["get", "nodes", "-o", "json"] and len(gets) == 2


def test_reboot_wait_is_bounded_and_says_what_it_saw(
    provider: KindProvider, fake_docker: FakeDocker, monkeypatch: pytest.MonkeyPatch
) -> None:
    cluster = provider.create(ClusterSpec(name="kt", nodes=2))
    worker = fake_docker.containers.get("kt-worker")
    monkeypatch.setattr(
        worker, "restart", lambda timeout=10: None
    )  # kubelet never back
    import harness.providers.kind.node as node_module

    monkeypatch.setattr(
        node_module,
        "wait_nodes_ready",
        _with_timeout(node_module.wait_nodes_ready, 0.5),
    )
    with pytest.raises(WaitTimeout, match=r"kt-worker Ready after reboot.*Ready=True"):
        cluster.node("kt-worker").reboot()


def _with_timeout(fn, seconds):  # type: ignore[no-untyped-def]
    return lambda *a, **kw: fn(*a, **{**kw, "timeout": seconds})


def test_stop_then_start_powers_the_container_and_waits_ready(
    provider: KindProvider, world: KindWorld, fake_docker: FakeDocker
) -> None:
    cluster = provider.create(ClusterSpec(name="kt", nodes=2))
    node = cluster.node("kt-worker")
    fake_docker.calls.clear()
    node.stop()
    assert fake_docker.calls == [("stop", "kt-worker", 10)]
    with pytest.raises(NodeNotRunning):
        node.exec(["true"])
    fake_docker.calls.clear()
    world.calls.clear()
    node.start()
    assert fake_docker.calls == [("start", "kt-worker")]
    assert [c[-4:] for c in kind_calls(world)] == [["get", "nodes", "-o", "json"]] * 2


def test_run_cleaner_loads_the_image_once_and_runs_the_shipped_job(
    provider: KindProvider, world: KindWorld
) -> None:
    cluster = provider.create(ClusterSpec(name="kt", nodes=2))
    world.calls.clear()
    world.job_exit = 2
    world.job_log = (
        "cniscrub: 3 actions pending\n"
        '{"schema": "cniscrub/plan/v1", "exit_code": 2, "actions": [1, 2, 3]}\n'
    )
    node = cluster.node("kt-worker")
    result = cluster.run_cleaner(node, ["plan", "--cni", "flannel", "--json"])
    assert result.rc == 2
    assert json.loads(result.stdout) == {
        "schema": "cniscrub/plan/v1",
        "exit_code": 2,
        "actions": [1, 2, 3],
    }
    assert result.stderr == "cniscrub: 3 actions pending\n"
    (job,) = world.jobs.values()
    name = job["metadata"]["name"]
    kc = ["--kubeconfig", str(cluster.kubeconfig)]
    assert kind_calls(world) == [
        ["kind", "load", "docker-image", "--name", "kt", "cniscrub:test"],
        ["kubectl", *kc, "apply", "-f", "-"],
        [
            "kubectl",
            *kc,
            "-n",
            "kube-system",
            "get",
            "pods",
            "-l",
            f"job-name={name}",
            "-o",
            "json",
        ],
        [
            "kubectl",
            *kc,
            "-n",
            "kube-system",
            "logs",
            f"pod/{name}-abcde",
            "-c",
            "cniscrub",
        ],
        [
            "kubectl",
            *kc,
            "-n",
            "kube-system",
            "delete",
            "job",
            name,
            "--ignore-not-found",
            "--wait=false",
        ],
    ]
    pod = job["spec"]["template"]["spec"]
    assert pod["nodeName"] == "kt-worker"
    assert pod["containers"][0]["args"] == [
        "plan",
        "--cni",
        "flannel",
        "--json",
        "--root",
        "/host",
    ]
    world.calls.clear()
    cluster.run_cleaner(node, ["verify", "--cni", "flannel"])
    assert ["kind", "load"] not in [c[:2] for c in kind_calls(world)]


def test_get_finds_only_our_clusters_and_rewrites_a_missing_kubeconfig(
    provider: KindProvider, world: KindWorld
) -> None:
    provider.create(ClusterSpec(name="kt", nodes=1))
    (provider.home / "kt" / "kubeconfig").write_text("")
    world.calls.clear()
    cluster = provider.get("kt")
    assert kind_calls(world)[-1] == ["kind", "get", "kubeconfig", "--name=kt"]
    assert cluster.kubeconfig.read_text().startswith("apiVersion: v1")
    with pytest.raises(ProviderError, match="no kind cluster 'nope'"):
        provider.get("nope")
    assert not (provider.home / "nope").exists()


def test_pytest_kinds_flags_reach_the_kind_provider() -> None:
    from harness.plugin import provider_options

    given = {
        "kind_bin": "/opt/kind",
        "kind_kubectl_bin": "/opt/kubectl",
        "kind_image": None,
    }

    class Config:
        def getoption(self, name: str, default: object = None) -> object:
            return given.get(name, default)

    assert provider_options(Config()) == {  # type: ignore[arg-type]
        "kind_bin": "/opt/kind",
        "kubectl_bin": "/opt/kubectl",
    }
    provider = KindProvider(**provider_options(Config()))  # type: ignore[arg-type]
    assert (provider.kind_bin, provider.kubectl_bin) == ("/opt/kind", "/opt/kubectl")


def test_install_waits_for_every_workload_of_any_cni_manifest(
    provider: KindProvider, world: KindWorld, tmp_path: Path
) -> None:
    """kube-router (swap scenarios) installs the same way: every DaemonSet and
    Deployment the manifest defines is waited for, in its own namespace."""
    manifest = tmp_path / "kube-router.yaml"
    docs = [
        ("v1", "ServiceAccount", "{name: kube-router, namespace: kube-system}"),
        ("apps/v1", "DaemonSet", "{name: kube-router, namespace: kube-system}"),
        ("apps/v1", "Deployment", "{name: helper}"),
    ]
    manifest.write_text(
        "---\n".join(f"apiVersion: {a}\nkind: {k}\nmetadata: {m}\n" for a, k, m in docs)
    )
    cluster = provider.create(ClusterSpec(name="kt", nodes=1))
    world.calls.clear()
    cluster.install_cni(manifest, timeout=30)
    rollouts = [c[3:8] for c in kind_calls(world) if "rollout" in c]
    assert rollouts == [
        ["-n", "kube-system", "rollout", "status", "daemonset/kube-router"],
        ["-n", "default", "rollout", "status", "deployment/helper"],
    ]
