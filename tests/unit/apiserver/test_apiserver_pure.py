"""Golden tables for the pure parts of the API stand-in: selectors and patches."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from harness.emulation.apiserver.patching import (
    PatchError,
    apply_patch,
    merge_patch,
    strategic_merge,
)
from harness.emulation.apiserver.selectors import (
    FieldSelector,
    LabelSelector,
    SelectorError,
)
from harness.emulation.apiserver.tables import pod_status

DATA = Path(__file__).parent / "data"


LABELS = {"app": "flannel", "tier": "node", "k8s-app": "flannel"}

LABEL_CASES = [
    ("", True),
    ("app=flannel", True),
    ("app==flannel", True),
    ("app=calico", False),
    ("app!=calico", True),
    ("app!=flannel", False),
    ("missing!=x", True),
    ("tier in (node,infra)", True),
    ("tier in (infra)", False),
    ("tier notin (infra)", True),
    ("tier notin (node, infra)", False),
    ("missing notin (a)", True),
    ("k8s-app", True),
    ("!k8s-app", False),
    ("!missing", True),
    ("app=flannel,tier in (node),!missing", True),
    ("app=flannel, tier=infra", False),
    ("app=", False),
]


@pytest.mark.parametrize(("selector", "expected"), LABEL_CASES)
def test_label_selector_golden(selector: str, expected: bool) -> None:
    assert LabelSelector.parse(selector).matches(LABELS) is expected


@pytest.mark.parametrize("bad", ["app=(x)", "tier in node", "a b", "=x"])
def test_label_selector_rejects(bad: str) -> None:
    with pytest.raises(SelectorError):
        LabelSelector.parse(bad)


POD = {
    "metadata": {"name": "p1", "namespace": "kube-flannel"},
    "spec": {"nodeName": "node-a", "hostNetwork": True},
    "status": {"phase": "Running"},
}

FIELD_CASES = [
    ("metadata.name=p1", True),
    ("metadata.name==p1", True),
    ("metadata.name=p2", False),
    ("metadata.namespace!=default", True),
    ("spec.nodeName=node-a,status.phase=Running", True),
    ("spec.nodeName=node-a,status.phase!=Running", False),
    ("spec.hostNetwork=true", True),
    ("spec.schedulerName=", True),
    ("spec.missing.deeper!=x", True),
]


@pytest.mark.parametrize(("selector", "expected"), FIELD_CASES)
def test_field_selector_golden(selector: str, expected: bool) -> None:
    assert FieldSelector.parse(selector).matches(POD) is expected


def _cases() -> list[Any]:
    cases = json.loads((DATA / "strategic_merge_cases.json").read_text())
    return [pytest.param(c, id=c["name"]) for c in cases]


@pytest.mark.parametrize("case", _cases())
def test_strategic_merge_golden(case: dict[str, Any]) -> None:
    original = json.loads(json.dumps(case["original"]))
    assert strategic_merge(case["original"], case["patch"]) == case["expected"]
    assert case["original"] == original, "the original must not be mutated"


def test_merge_patch_replaces_lists_and_deletes_nulls() -> None:
    original = {"conditions": [{"type": "Ready"}], "a": {"b": 1, "c": 2}}
    patched = merge_patch(original, {"conditions": [{"type": "X"}], "a": {"b": None}})
    assert patched == {"conditions": [{"type": "X"}], "a": {"c": 2}}


def test_json_patch_and_errors() -> None:
    doc = {"metadata": {"annotations": {"a": "1"}}}
    ops = [{"op": "remove", "path": "/metadata/annotations/a"}]
    assert apply_patch(doc, ops, "application/json-patch+json") == {
        "metadata": {"annotations": {}}
    }
    assert doc["metadata"]["annotations"] == {"a": "1"}
    with pytest.raises(PatchError):
        apply_patch(doc, [{"op": "remove", "path": "/nope"}], "json")
    with pytest.raises(PatchError):
        apply_patch(doc, {"a": 1}, "json")
    with pytest.raises(PatchError):
        apply_patch(doc, {"a": 1}, "application/x-unknown")


def _waiting(reason: str) -> dict[str, Any]:
    return {"state": {"waiting": {"reason": reason}}, "restartCount": 0}


POD_STATUS_CASES = [
    ("pending", {"status": {"phase": "Pending"}}, ("Pending", 0, 1, 0)),
    (
        "sandbox not created yet",
        {
            "status": {
                "phase": "Pending",
                "containerStatuses": [_waiting("ContainerCreating")],
            }
        },
        ("ContainerCreating", 0, 1, 0),
    ),
    (
        "image pull failure",
        {
            "status": {
                "phase": "Pending",
                "containerStatuses": [_waiting("ErrImagePull")],
            }
        },
        ("ErrImagePull", 0, 1, 0),
    ),
    (
        "first init container running",
        {
            "spec": {"initContainers": [{}, {}], "containers": [{}]},
            "status": {
                "phase": "Pending",
                "initContainerStatuses": [
                    {"state": {"running": {}}, "restartCount": 1},
                    _waiting("PodInitializing"),
                ],
            },
        },
        ("Init:0/2", 0, 1, 1),
    ),
    (
        "init container crashed",
        {
            "spec": {"initContainers": [{}], "containers": [{}]},
            "status": {
                "initContainerStatuses": [
                    {"state": {"terminated": {"exitCode": 1, "reason": "Error"}}}
                ]
            },
        },
        ("Init:Error", 0, 1, 0),
    ),
    (
        "running and ready",
        {
            "status": {
                "phase": "Running",
                "containerStatuses": [
                    {"state": {"running": {}}, "ready": True, "restartCount": 2}
                ],
            }
        },
        ("Running", 1, 1, 2),
    ),
    (
        "terminating",
        {
            "metadata": {"deletionTimestamp": "2026-01-01T00:00:00Z"},
            "status": {"phase": "Running"},
        },
        ("Terminating", 0, 1, 0),
    ),
]


@pytest.mark.parametrize(
    ("pod", "expected"), [pytest.param(p, e, id=n) for n, p, e in POD_STATUS_CASES]
)
def test_pod_status_column_golden(pod: dict[str, Any], expected: tuple[Any]) -> None:
    pod = {"metadata": {}, "spec": {"containers": [{}]}, **pod}
    assert pod_status(pod) == expected
