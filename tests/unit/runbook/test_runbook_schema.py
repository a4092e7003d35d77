"""The runbook format: the shipped JSON Schema, and errors that name the file, the line
and the step of every mistake (issue 11 acceptance: "errors name the file, line and
step")."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from harness.runbook import loader
from harness.runbook.loader import RunbookError

GOOD = """\
name: swap
description: the recommended order
on_failure: stop
steps:
  - name: DaemonSet first
    kubectl: delete daemonset kube-flannel-ds -n kube-flannel
  - wait: {pods_gone: {namespace: kube-flannel, selector: app=flannel}}
    timeout: 60
  - cniscrub: apply --cni flannel --yes
    nodes: workers
  - shell:
      script: |
        ls /etc/cni/net.d
    nodes: [worker, lab-worker2]
    on_failure: continue
  - reboot: rolling
  - reboot:
  - install: kube-router
  - kubectl: {manifest: flannel, verb: delete}
  - wait: 2
  - expect: {no_residue: flannel, pods_running: true, cross_node_traffic: true}
"""


def _load(tmp_path: Path, text: str, name: str = "rb.yaml") -> loader.Runbook:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return loader.load(path)


def _errors(tmp_path: Path, text: str) -> list[str]:
    with pytest.raises(RunbookError) as exc:
        _load(tmp_path, text)
    return [str(i) for i in exc.value.issues]


def test_the_shipped_schema_is_a_valid_draft_2020_12_schema() -> None:
    Draft202012Validator.check_schema(loader.schema())


def test_a_valid_runbook_loads_with_normalised_arguments(tmp_path: Path) -> None:
    rb = _load(tmp_path, GOOD)
    assert rb.format == "yaml" and rb.name == "swap"
    kinds = [s.kind for s in rb.steps]
    assert kinds == [
        "kubectl",
        "wait",
        "cniscrub",
        "shell",
        "reboot",
        "reboot",
        "install",
        "kubectl",
        "wait",
        "expect",
    ]
    s = rb.steps
    assert s[0].params == {
        "args": ["delete", "daemonset", "kube-flannel-ds", "-n", "kube-flannel"]
    }
    assert (s[0].line, s[0].name, s[0].on_failure) == (5, "DaemonSet first", "stop")
    assert s[1].timeout == 60
    assert s[2].nodes == "workers" and s[2].params["args"][0] == "apply"
    assert s[3].nodes == ("worker", "lab-worker2") and s[3].on_failure == "continue"
    assert s[3].params["script"] == "ls /etc/cni/net.d\n"
    assert s[4].params == {"mode": "rolling"} and s[5].params == {"mode": "all-at-once"}
    assert s[6].params == {"manifest": "kube-router", "wait": True}
    assert s[7].params == {"args": ["delete", "-f", "flannel"]}
    assert s[8].params == {"seconds": 2}
    assert s[9].params["cross_node_traffic"] is True


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "steps:\n  - shell: ls\n  - bogus: 1\n",
            "rb.yaml:3: step 2: needs one of: kubectl, shell, cniscrub, reboot, install, "
            "wait, expect",
        ),
        (
            "steps:\n  - shell:\n      scrip: ls\n",
            "rb.yaml:2: step 1 (shell) shell: Additional properties are not allowed "
            "('scrip' was unexpected)",
        ),
        (
            "steps:\n  - wait: 1\n  - wait: {pods_gone: {selector: app=x}}\n",
            "rb.yaml:3: step 2 (wait) wait.pods_gone: 'namespace' is a required property",
        ),
        (
            "steps:\n  - reboot: sideways\n",
            "rb.yaml:2: step 1 (reboot) reboot: 'sideways' is not one of: all-at-once, rolling",
        ),
        (
            "steps:\n  - expect:\n      no_residue: flannel\n      pods_runing: true\n",
            "rb.yaml:2: step 1 (expect) expect: Additional properties are not allowed "
            "('pods_runing' was unexpected)",
        ),
        (
            "steps:\n  - shell: ls\n    on_failure: maybe\n",
            "rb.yaml:3: step 1 (shell) on_failure: 'maybe' is not one of: continue, stop",
        ),
        (
            "name: x\nstep:\n  - shell: ls\n",
            "rb.yaml:1: 'steps' is a required property",
        ),
        (
            "steps:\n  - shell: [unclosed\n",
            "rb.yaml:3: invalid YAML",
        ),
    ],
)
def test_errors_name_file_line_and_step(
    tmp_path: Path, text: str, expected: str
) -> None:
    errors = _errors(tmp_path, text)
    assert all(e.startswith(f"{tmp_path}/rb.yaml:") for e in errors), errors
    relative = [e.removeprefix(f"{tmp_path}/") for e in errors]
    assert any(e.startswith(expected) for e in relative), relative


def test_every_mistake_is_reported_at_once(tmp_path: Path) -> None:
    errors = _errors(
        tmp_path,
        "steps:\n  - shell: ls\n  - wait: -1\n  - cniscrub: {argz: x}\n  - install: {}\n",
    )
    lines = sorted(int(e.split(":")[1]) for e in errors)
    assert lines == [3, 4, 5], errors


def test_two_kinds_in_one_step_are_refused(tmp_path: Path) -> None:
    errors = _errors(tmp_path, "steps:\n  - shell: ls\n    kubectl: get pods\n")
    assert any("step 1" in e and "was unexpected" in e for e in errors), errors


def test_a_yaml_file_without_steps_mapping_is_read_as_a_script(tmp_path: Path) -> None:
    rb = _load(tmp_path, "ip link delete cni0\n", name="runbook")
    assert rb.format == "shell" and rb.steps[0].kind == "shell"
