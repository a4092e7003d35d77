"""Objects are classified from snapshots alone (B before Flannel, F with Flannel and
pods, S after a step), and the exit code carries one documented bit per failing
verdict: 0 only when nothing is left, nothing foreign destroyed, every expect held."""

from __future__ import annotations

import json

from runbook_sample import sample

from harness.runbook.classify import classify, step_effect
from harness.runbook.result import Expectation, Validation
from harness.runbook.verdict import Verdict, headline

B = {
    "chain KUBE-SERVICES (nat, nft)": "",
    "file /etc/cni/net.d/87-podman.conflist": "d1",
}
F = {
    **B,
    "link cni0 (bridge)": "",
    "file /opt/cni/bin/flannel": "d2",
    "link veth1234 (veth)": "",
}


def test_left_removed_destroyed_changed_and_pod_held() -> None:
    s = {
        "file /opt/cni/bin/flannel": "d2",
        "file /etc/cni/net.d/87-podman.conflist": "EDITED",
        "link veth1234 (veth)": "",
        "link kube-bridge (bridge)": "",  # new, the next CNI's: not judged
    }
    d = classify(B, F, s, attached={"link veth1234 (veth)"})
    assert d.left == ["file /opt/cni/bin/flannel"]
    assert d.removed == ["link cni0 (bridge)"]
    assert d.destroyed == ["chain KUBE-SERVICES (nat, nft)"]
    assert d.changed == ["file /etc/cni/net.d/87-podman.conflist"]
    assert d.attached == ["link veth1234 (veth)"]
    assert d.collateral == [
        "chain KUBE-SERVICES (nat, nft)",
        "file /etc/cni/net.d/87-podman.conflist (changed)",
    ]


def test_a_pod_object_whose_pod_is_gone_is_left() -> None:
    d = classify(B, F, {**F}, attached=())
    assert "link veth1234 (veth)" in d.left


def test_a_clean_state_has_nothing_to_report() -> None:
    d = classify(B, F, dict(B))
    assert not (d.left or d.destroyed or d.changed)
    assert len(d.removed) == 3


def test_step_effect_is_what_changed_during_the_step() -> None:
    before = classify(B, F, {**F})
    after = classify(
        B, F, {k: v for k, v in F.items() if "cni0" not in k and "KUBE" not in k}
    )
    effect = step_effect(before, after)
    assert effect.removed == ["link cni0 (bridge)"]
    assert effect.destroyed == ["chain KUBE-SERVICES (nat, nft)"]
    back = step_effect(after, before)
    assert back.left == ["link cni0 (bridge)"]


def test_exit_codes_one_bit_per_failing_verdict() -> None:
    assert int(Verdict.of(False, False, False)) == 0
    assert int(Verdict.of(True, False, False)) == 8
    assert int(Verdict.of(False, True, False)) == 16
    assert int(Verdict.of(False, False, True)) == 32
    assert int(Verdict.of(True, True, True)) == 56
    assert Verdict.decode(24) == ["cni_objects_left", "foreign_objects_destroyed"]
    assert headline(0).startswith("PASS")
    assert headline(40) == "FAIL: CNI objects left, expectations failed"


def test_the_validation_verdict_follows_its_findings() -> None:
    assert int(sample().verdict) == 24
    assert int(sample(clean=True).verdict) == 0
    assert int(sample(clean=True, expect_held=False).verdict) == 32
    v: Validation = sample(clean=True)
    v.steps[-1].expectations.append(Expectation("x", True))
    assert int(v.verdict) == 0
    v.error = "the cluster could not be built"
    assert int(v.verdict) == 1


def test_json_document_carries_verdict_code_and_names() -> None:
    doc = json.loads(json.dumps(sample().as_json()))
    assert doc["exit_code"] == 24
    assert doc["failing_verdicts"] == ["cni_objects_left", "foreign_objects_destroyed"]
    assert doc["final"]["lab-worker"]["left"] == ["file /opt/cni/bin/flannel"]
    assert doc["steps"][1]["executions"][0]["rc"] == 1
    assert doc["steps"][1]["pod_events"][0]["reason"] == "FailedCreatePodSandBox"
    assert doc["runbook"]["steps"][0]["notes"] == ["ran once against the cluster"]
