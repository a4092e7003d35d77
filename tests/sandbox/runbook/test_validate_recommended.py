"""``cniscrub-lab validate fixtures/runbooks/flannel-to-kube-router.yaml``: the
recommended swap (DaemonSet first, wait for its pods, cniscrub on every node, cniscrub
cluster for the API side, install kube-router, re-create pods) comes out clean: nothing
of Flannel left, zero collateral, new pods on kube-router's network reaching each other
across nodes over its proto-17 routes (kube-router-footprint.md §2, §3.3 "usual fix")."""

from __future__ import annotations

import ipaddress

import pytest
from validate_lab import RUNBOOKS, Validated, validate

from harness.runbook.manifests import pinned
from harness.runbook.result import CLUSTER

pytestmark = [pytest.mark.sandbox, pytest.mark.slow]
RECOMMENDED = RUNBOOKS / "flannel-to-kube-router.yaml"


@pytest.fixture(scope="module")
def swap(tmp_path_factory: pytest.TempPathFactory) -> Validated:
    if not pinned("kube-router"):
        pytest.skip(
            "no kube-router manifest fixture (fixtures/manifests/kube-router-*.yml)"
        )
    return validate(RECOMMENDED, tmp_path_factory.mktemp("swap"), "--nodes", "2")


def test_exit_zero_clean_and_no_collateral(swap: Validated) -> None:
    assert swap.rc == 0, swap.doc["verdict"]
    assert swap.doc["verdict"] == "PASS: clean, no collateral"
    assert swap.doc["totals"]["left"] == 0 and swap.doc["totals"]["destroyed"] == 0
    assert swap.doc["totals"]["changed"] == 0
    for subject in [*swap.nodes, CLUSTER]:
        final = swap.doc["final"][subject]
        assert final["left"] == [] and final["destroyed"] == [] and final["removed"]
    assert swap.doc["cni_objects"][CLUSTER] > 0


def test_every_step_ran_in_order_and_held(swap: Validated) -> None:
    assert [s["status"] for s in swap.doc["steps"]] == ["ok"] * len(swap.doc["steps"])
    expectations = swap.doc["steps"][-1]["expectations"]
    assert [x["what"] for x in expectations] == [
        "no flannel residue",
        "new pods Running on every node",
        "pod traffic across nodes",
    ]
    assert all(x["held"] for x in expectations)
    assert "reached" in expectations[-1]["detail"]


def test_the_daemonset_went_first_and_cniscrub_ran_on_every_node(
    swap: Validated,
) -> None:
    first, clean = swap.step(1), swap.step(3)
    assert (
        "daemonset kube-flannel/kube-flannel-ds" in first["effects"][CLUSTER]["removed"]
    )
    assert sorted(e["where"] for e in clean["executions"]) == sorted(swap.nodes)
    for node in swap.nodes:
        assert "link flannel.1 (vxlan)" in clean["effects"][node]["removed"]


def test_new_pods_get_kube_routers_network(swap: Validated) -> None:
    install = swap.step(6)
    assert any("pinned fixture kube-router-" in n for n in install["notes"])
    probes = [p for p in swap.doc["pods"] if p["pod"].startswith("probe-")]
    assert len(probes) == len(swap.nodes)
    for p in probes:
        assert p["phase"] == "Running" and p["message"] == "", p
        assert ipaddress.ip_address(p["ip"]) in ipaddress.ip_network("10.244.0.0/16")
