"""The pure pieces of ``cniscrub cluster``: the node Job made from the shipped
manifest, reports cut out of pod logs and their verdicts, the dependency order, and
the errors a user meets before any request (missing extra, kubeconfig, server).

Facts: issue 15 item 4 / deploy/job.yaml (one Job pinned to one node: privileged,
hostNetwork, hostPID, every taint tolerated, host root at /host, ``cniscrub apply
--cni flannel --yes --root /host --json``).
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest
import yaml

from cniscrub import __version__
from cniscrub.cli.main import main
from cniscrub.cluster.discover import selector_matches
from cniscrub.cluster.jobs import build_job, default_image, job_name, node_args
from cniscrub.cluster.kinds import KINDS
from cniscrub.cluster.reports import split_log, verdict
from cniscrub.deploy import manifest_text

SHIPPED = yaml.safe_load(manifest_text("job.yaml"))


def test_node_job_keeps_the_shipped_manifest_and_pins_the_node() -> None:
    job = build_job(
        "lab-worker3", "apply", "flannel", image="reg/cniscrub:9", namespace="ops",
        run_id="r-1", deadline=120,
    )  # fmt: skip
    pod = job["spec"]["template"]["spec"]
    shipped = SHIPPED["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert pod["nodeName"] == "lab-worker3" and container["image"] == "reg/cniscrub:9"
    assert (
        container["args"] == shipped["containers"][0]["args"]
    )  # flannel's, as shipped
    assert container["command"] == ["cniscrub"]
    for key in ("hostNetwork", "hostPID", "tolerations", "volumes", "restartPolicy"):
        assert pod[key] == shipped[key]
    assert container["securityContext"] == {"privileged": True}
    assert {"name": "host-root", "mountPath": "/host"} in container["volumeMounts"]
    assert job["metadata"]["namespace"] == "ops"
    assert job["metadata"]["labels"]["cniscrub.io/run"] == "r-1"
    assert job["spec"]["template"]["metadata"]["labels"]["cniscrub.io/run"] == "r-1"
    assert job["metadata"]["annotations"]["cniscrub.io/node"] == "lab-worker3"
    assert (
        job["spec"]["activeDeadlineSeconds"] == 120 and job["spec"]["backoffLimit"] == 0
    )


def test_node_args_per_command_and_cni() -> None:
    assert node_args("apply", "flannel") == [
        "apply", "--cni", "flannel", "--yes", "--root", "/host", "--json",
    ]  # fmt: skip
    assert node_args("verify", "kube-router") == [
        "verify", "--cni", "kube-router", "--root", "/host", "--json",
    ]  # fmt: skip


def test_default_image_is_what_the_dockerfile_builds() -> None:
    assert default_image() == f"cniscrub:{__version__}"
    container = SHIPPED["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == default_image()
    dockerfile = (Path(__file__).parents[3] / "deploy" / "Dockerfile").read_text()
    assert f"-t {default_image()} " in dockerfile  # the build command it documents


@pytest.mark.parametrize(
    ("node", "name"),
    [
        ("lab-worker2", "cniscrub-clean-lab-worker2"),
        ("Node_A", "cniscrub-clean-node-a"),
        ("a" * 80, None),
    ],
)
def test_job_names_are_valid_and_stable(node: str, name: str | None) -> None:
    got = job_name("apply", node)
    assert got == job_name("apply", node) and len(got) <= 52
    assert got[-1].isalnum() and all(c.isalnum() or c in "-." for c in got)
    if name:
        assert got == name
    assert job_name("apply", "a" * 80) != job_name("apply", "a" * 79)


def test_report_is_cut_out_of_a_mixed_pod_log() -> None:
    doc = {"schema": "cniscrub/apply/v1", "results": [], "exit_code": 0}
    log = "WARNING x\n" + json.dumps(doc) + "\n{not json\ncniscrub: done\n"
    found, rest = split_log(log)
    assert found == doc and rest == "WARNING x\n{not json\ncniscrub: done"
    assert split_log('{"a": 1}\n') == (None, '{"a": 1}')  # not a cniscrub document


@pytest.mark.parametrize(
    ("command", "rc", "doc", "expect"),
    [
        (
            "apply",
            0,
            {"schema": "cniscrub/apply/v1", "results": [{"status": "applied"}]},
            "clean",
        ),
        (
            "apply",
            3,
            {"schema": "cniscrub/apply/v1", "results": [{"status": "failed"}]},
            "partial",
        ),
        ("apply", 6, {"schema": "cniscrub/error/v1", "error": "lock held"}, "refused"),
        ("apply", 1, {"schema": "cniscrub/error/v1", "error": "boom"}, "failed"),
        ("plan", 2, {"schema": "cniscrub/plan/v1", "actions": [1, 2]}, "pending"),
        ("plan", 0, {"schema": "cniscrub/plan/v1", "actions": []}, "clean"),
        ("verify", 2, {"schema": "cniscrub/verify/v1", "residue": [1]}, "residue"),
        ("verify", 137, None, "failed"),
    ],
)
def test_verdicts(command: str, rc: int, doc: dict | None, expect: str) -> None:
    assert verdict(command, rc, doc)[0] == expect


def test_dependency_order_of_kinds() -> None:
    order = sorted(KINDS.values(), key=lambda k: k.rank)
    names = [k.name for k in order]
    assert names.index("DaemonSet") < names.index("ConfigMap")
    assert names.index("ClusterRoleBinding") < names.index("ClusterRole")
    assert (
        names.index("ClusterRole")
        < names.index("ServiceAccount")
        < names.index("Namespace")
    )


def test_equality_selectors() -> None:
    assert selector_matches("app=flannel", {"app": "flannel"})
    assert not selector_matches("app=flannel,tier=node", {"app": "flannel"})
    assert selector_matches("app!=x,!gone,app", {"app": "flannel"})


def test_missing_extra_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "kubernetes", None)  # import fails
    rc = main(["cluster", "plan", "--cni", "flannel", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert rc == 1 and out["exit_code"] == 1 and out["command"] == "cluster plan"
    assert "pip install 'cniscrub[cluster]'" in out["error"]
    # the node cleaner does not need it
    assert main(["plan", "--cni", "flannel", "--root", "/nonexistent-root"]) == 4


def test_kubeconfig_errors_are_usage_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("KUBECONFIG", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    assert main(["cluster", "plan", "--cni", "flannel"]) == 4
    assert "no kubeconfig" in capsys.readouterr().err
    conf = tmp_path / "conf"
    conf.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [
                    {"name": "c", "cluster": {"server": "http://127.0.0.1:9"}}
                ],
                "users": [{"name": "u", "user": {}}],
                "contexts": [{"name": "x", "context": {"cluster": "c", "user": "u"}}],
                "current-context": "x",
            }
        )
    )
    assert (
        main(
            [
                "cluster",
                "plan",
                "--cni",
                "flannel",
                "--kubeconfig",
                str(conf),
                "--context",
                "nope",
            ]
        )
        == 4
    )
    assert "nope" in capsys.readouterr().err
    rc = main(
        ["cluster", "plan", "--cni", "flannel", "--kubeconfig", str(conf), "--api-only"]
    )
    assert (
        rc == 1
        and "cannot reach the API server at http://127.0.0.1:9"
        in capsys.readouterr().err
    )


def test_bad_numbers_are_usage_errors(capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(["cluster", "apply", "--cni", "flannel", "--parallel", "0", "--yes"]) == 4
    )
    assert "--parallel" in capsys.readouterr().err


def test_live_progress_on_a_terminal() -> None:
    import io

    from rich.console import Console

    from cniscrub.cluster.model import NodeResult
    from cniscrub.cluster.progress import RichProgress

    out = io.StringIO()
    progress = RichProgress(Console(file=out, force_terminal=True, width=100))
    progress.phase("delete DaemonSet kube-flannel/kube-flannel-ds")
    progress.waiting(2, 3, "pods to stop")
    progress.jobs(2, "apply")
    progress.job_started("w1")
    progress.job_done(NodeResult("w1", "clean", 0, seconds=1.5))
    progress.close()
    text = re.sub(r"\x1b\[[0-9;?]*[a-zA-Z]", "", out.getvalue())  # colours, cursor
    assert "delete DaemonSet kube-flannel/kube-flannel-ds" in text
    assert "✓ w1 clean (1.5 s)" in text and "1/2" in text
