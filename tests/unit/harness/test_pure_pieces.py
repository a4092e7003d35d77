"""Golden tables for the harness's pure pieces: names, addresses, image references, pod
specs, scheduling predicates, records."""

from __future__ import annotations

import pytest

from cniscrub.node.command import CommandError, CommandResult, as_argv
from harness.emulation.controlplane.controllers import fits
from harness.emulation.controlplane.nodes import pod_cidr
from harness.emulation.images import repository, resolve, tag
from harness.emulation.kubelet.podspec import (
    container_argv,
    container_mounts,
    resolve_env,
    tolerates,
    volume_sources,
)
from harness.providers.sandbox.provider import node_names
from harness.providers.sandbox.state import (
    ClusterRecord,
    NodeRecord,
    ProcRef,
    SandboxError,
)
from harness.providers.sandbox.underlay import node_address


@pytest.mark.parametrize(
    ("count", "names"),
    [
        (1, ["lab-control-plane"]),
        (3, ["lab-control-plane", "lab-worker", "lab-worker2"]),
        (4, ["lab-control-plane", "lab-worker", "lab-worker2", "lab-worker3"]),
    ],
)
def test_kind_style_names(count: int, names: list[str]) -> None:
    assert node_names("lab", count) == names


def test_zero_nodes_is_refused() -> None:
    with pytest.raises(SandboxError):
        node_names("lab", 0)


@pytest.mark.parametrize(
    ("i", "addr"), [(0, "198.18.0.10"), (245, "198.18.0.255"), (246, "198.18.1.0")]
)
def test_underlay_addresses_stay_in_198_18_0_0_15(i: int, addr: str) -> None:
    assert node_address(i) == addr


def test_underlay_refuses_to_leave_its_range() -> None:
    with pytest.raises(ValueError):
        node_address(2**17)


@pytest.mark.parametrize(
    ("image", "repo", "tag_"),
    [
        ("ghcr.io/flannel-io/flannel:v0.27.3", "ghcr.io/flannel-io/flannel", "v0.27.3"),
        (
            "docker.io/flannel/flannel-cni-plugin:v1.1.2",
            "docker.io/flannel/flannel-cni-plugin",
            "v1.1.2",
        ),
        ("flannel/flannel:v0.22.0", "docker.io/flannel/flannel", "v0.22.0"),
        ("busybox", "docker.io/library/busybox", "latest"),
        ("busybox:1.36@sha256:abc", "docker.io/library/busybox", "1.36"),
        ("localhost:5000/x/y:1", "localhost:5000/x/y", "1"),
    ],
)
def test_image_references(image: str, repo: str, tag_: str) -> None:
    assert (repository(image), tag(image)) == (repo, tag_)


def test_unknown_images_are_not_emulated() -> None:
    assert resolve("example.com/nope:1") is None
    assert resolve("busybox:1.36") is not None


POD = {
    "metadata": {
        "name": "kube-flannel-ds-abcde",
        "namespace": "kube-flannel",
        "uid": "u-1",
    },
    "spec": {
        "nodeName": "lab-worker",
        "volumes": [
            {"name": "run", "hostPath": {"path": "/run/flannel"}},
            {
                "name": "xtables-lock",
                "hostPath": {"path": "/run/xtables.lock", "type": "FileOrCreate"},
            },
            {"name": "flannel-cfg", "configMap": {"name": "kube-flannel-cfg"}},
        ],
    },
}
CONTAINER = {
    "name": "kube-flannel",
    "command": ["/opt/bin/flanneld"],
    "args": ["--ip-masq", "--kube-subnet-mgr"],
    "env": [
        {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
        {
            "name": "POD_NAMESPACE",
            "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}},
        },
        {"name": "EVENT_QUEUE_DEPTH", "value": "5000"},
    ],
    "volumeMounts": [
        {"name": "run", "mountPath": "/run/flannel"},
        {"name": "flannel-cfg", "mountPath": "/etc/kube-flannel/"},
        {"name": "xtables-lock", "mountPath": "/run/xtables.lock"},
    ],
}


def test_container_argv_is_command_plus_args() -> None:
    assert container_argv(CONTAINER) == [
        "/opt/bin/flanneld",
        "--ip-masq",
        "--kube-subnet-mgr",
    ]


def test_env_resolves_the_downward_api() -> None:
    env = resolve_env(POD, CONTAINER["env"])
    assert env["POD_NAME"] == "kube-flannel-ds-abcde"
    assert env["POD_NAMESPACE"] == "kube-flannel"
    assert env["EVENT_QUEUE_DEPTH"] == "5000"
    assert (env["KUBERNETES_SERVICE_HOST"], env["KUBERNETES_SERVICE_PORT"]) == (
        "198.18.0.1",
        "6443",
    )


def test_volumes_map_to_node_paths() -> None:
    sources = volume_sources(POD)
    assert sources["run"] == {"path": "/run/flannel", "type": ""}
    assert sources["flannel-cfg"]["path"] == (
        "/var/lib/kubelet/pods/u-1/volumes/kubernetes.io~configmap/flannel-cfg"
    )
    mounts = container_mounts(POD, CONTAINER)
    assert [(m["target"], m["file"]) for m in mounts] == [
        ("/run/flannel", False),
        ("/etc/kube-flannel/", False),
        ("/run/xtables.lock", True),
    ]


def test_a_mount_without_volume_is_an_error() -> None:
    with pytest.raises(ValueError, match="names no volume"):
        container_mounts(POD, {"volumeMounts": [{"name": "nope", "mountPath": "/x"}]})


CP_TAINT = {"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}


@pytest.mark.parametrize(
    ("tolerations", "expected"),
    [
        (None, False),
        (
            [{"operator": "Exists", "effect": "NoSchedule"}],
            True,
        ),  # flannel's toleration
        ([{"operator": "Exists"}], True),
        (
            [{"key": "node-role.kubernetes.io/control-plane", "operator": "Exists"}],
            True,
        ),
        ([{"key": "other", "operator": "Exists"}], False),
        ([{"operator": "Exists", "effect": "NoExecute"}], False),
    ],
)
def test_tolerations(tolerations: list | None, expected: bool) -> None:
    assert tolerates(tolerations, CP_TAINT) is expected


def _node(labels: dict[str, str], taints: list | None = None) -> dict:
    return {"metadata": {"labels": labels}, "spec": {"taints": taints or []}}


def test_fits_follows_selector_affinity_and_taints() -> None:
    linux = _node({"kubernetes.io/os": "linux"})
    spec = {
        "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
            "nodeSelectorTerms": [{"matchExpressions": [
                {"key": "kubernetes.io/os", "operator": "In", "values": ["linux"]}]}]}}},
    }  # fmt: skip
    assert fits(spec, linux)
    assert not fits(spec, _node({"kubernetes.io/os": "windows"}))
    assert not fits({"nodeSelector": {"disk": "ssd"}}, linux)
    assert not fits({}, _node({}, [CP_TAINT]))
    assert fits(
        {"tolerations": [{"operator": "Exists", "effect": "NoSchedule"}]},
        _node({}, [CP_TAINT]),
    )


def test_pod_cidrs_like_the_node_ipam_controller() -> None:
    assert [pod_cidr(i) for i in range(3)] == [
        "10.244.0.0/24",
        "10.244.1.0/24",
        "10.244.2.0/24",
    ]
    with pytest.raises(ValueError):
        pod_cidr(256)


def test_cluster_record_round_trip_and_marker() -> None:
    rec = ClusterRecord(name="lab", id="x", created=1.0, cni_bin_set="full")
    rec.nodes = [
        NodeRecord(
            "lab-control-plane", 0, "control-plane", "198.18.0.10", ProcRef(1, 2)
        )
    ]
    from dataclasses import asdict

    again = ClusterRecord.from_json(asdict(rec))
    assert again == rec
    with pytest.raises(SandboxError, match="owner marker"):
        ClusterRecord.from_json({**asdict(rec), "owner": "someone-else"})


def test_dead_process_refs_are_not_alive() -> None:
    import os

    assert ProcRef.of(os.getpid()).alive()
    assert not ProcRef(os.getpid(), 1).alive()  # same pid, other start time: reused pid


def test_command_results_and_errors() -> None:
    with pytest.raises(TypeError):
        as_argv("ip link")  # type: ignore[arg-type]
    err = CommandError(
        CommandResult(("ip", "link", "del", "x"), 1, b"", b"Cannot find device\n"),
        "on node n",
    )
    assert str(err).splitlines() == [
        "command failed (exit 1): ip link del x [on node n]",
        "stderr:",
        "Cannot find device",
    ]


def test_cni_conf_is_the_manifests_configmap() -> None:
    from harness.flannel_install import cni_conf
    from harness.matrix import flannel_versions

    # fact: flannel-footprint.md §1.2: cni-conf.json is the same in every version
    confs = [cni_conf(v) for v in flannel_versions()]
    assert all(c == confs[0] for c in confs)
    assert confs[0]["name"] == "cbr0"
    assert [p["type"] for p in confs[0]["plugins"]] == ["flannel", "portmap"]
