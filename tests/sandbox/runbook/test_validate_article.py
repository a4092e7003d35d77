"""``cniscrub-lab validate fixtures/runbooks/article-runbook.sh``: the common runbook
(``kubectl delete -f``, ``rm`` of the conflist, ``ip link delete``, ``iptables -F``,
``rm -rf /var/lib/cni/ /run/flannel/``), measured on a sandbox cluster.

What it must leave and destroy follows from the facts, not from the cleaner:
``iptables -F`` flushes rules but deletes no chain, so Flannel's empty chains stay and
kube-proxy's, Docker's and the SSH rule go (cleanup-anchors.md §3, "Cleanup that removed
too much": kubespray#1229, k3s#774, moby#12294); nothing removes the plugin binary
(flannel-footprint.md §2.6 "what flanneld never removes": ``/opt/cni/bin/flannel``) or
the node annotations and FlannelIsUp condition (§2.7); ``rm -rf /var/lib/cni`` takes
podman's leases too (cleanup-anchors.md §1, k3s: "blanket"; kubeadm#1822).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from chromium_page import open_page, unavailable
from validate_lab import ARTIFACTS, RUNBOOKS, Validated, validate

from harness.baseline import PODMAN_CONFLIST, PODMAN_LEASE
from harness.runbook.result import CLUSTER
from harness.runbook.verdict import Verdict

pytestmark = [pytest.mark.sandbox, pytest.mark.slow]
ARTICLE = RUNBOOKS / "article-runbook.sh"


@pytest.fixture(scope="module")
def article(tmp_path_factory: pytest.TempPathFactory) -> Validated:
    return validate(ARTICLE, tmp_path_factory.mktemp("article"), "--nodes", "2")


def _rule(finals: dict[str, list[str]], pattern: str) -> list[str]:
    return [o for o in finals if re.fullmatch(pattern, o)]


def test_exit_code_says_left_and_destroyed(article: Validated) -> None:
    assert article.rc == Verdict.LEFT | Verdict.FOREIGN_DESTROYED == 24
    assert article.doc["exit_code"] == 24
    assert article.doc["failing_verdicts"] == [
        "cni_objects_left",
        "foreign_objects_destroyed",
    ]
    assert article.doc["verdict"] == "FAIL: CNI objects left, foreign objects destroyed"


def test_what_it_leaves_on_every_node(article: Validated) -> None:
    for node in article.nodes:
        left = article.doc["final"][node]["left"]
        assert "file /opt/cni/bin/flannel" in left
        assert _rule(left, r"chain FLANNEL-FWD \(filter, (nft|legacy)\)"), left
        assert _rule(left, r"chain FLANNEL-POSTRTG \(nat, (nft|legacy)\)"), left
        # what it did remove: the conflist, the links, subnet.env, the IPAM store
        removed = article.doc["final"][node]["removed"]
        for name in (
            "file /etc/cni/net.d/10-flannel.conflist",
            "link cni0 (bridge)",
            "link flannel.1 (vxlan)",
            "file /run/flannel/subnet.env",
            "dir /var/lib/cni/networks/cbr0",
        ):
            assert name in removed, name


def test_what_it_leaves_in_the_api(article: Validated) -> None:
    left = article.doc["final"][CLUSTER]["left"]
    for node in article.nodes:
        for key in ("backend-data", "backend-type", "kube-subnet-manager", "public-ip"):
            assert f"annotation flannel.alpha.coreos.com/{key} on node/{node}" in left
        assert (
            f"condition NetworkUnavailable=False (FlannelIsUp) on node/{node}" in left
        )
    removed = article.doc["final"][CLUSTER]["removed"]
    assert "daemonset kube-flannel/kube-flannel-ds" in removed
    assert "namespace kube-flannel" in removed


def test_what_it_destroys_on_every_node_named(article: Validated) -> None:
    for node in article.nodes:
        gone = article.doc["final"][node]["destroyed"]
        assert _rule(
            gone,
            r'rule "-A INPUT -p tcp --dport 22 -j ACCEPT" \(filter, (nft|legacy)\)',
        )
        assert _rule(
            gone,
            r'rule "-A KUBE-SERVICES -d 10\.96\.0\.10/32 .*" \(nat, (nft|legacy)\)',
        )
        assert _rule(
            gone, r'rule "-A KUBE-POSTROUTING .*MASQUERADE --random-fully" \(nat, .*\)'
        )
        assert _rule(gone, r'rule "-A DOCKER-USER -j RETURN" \(filter, (nft|legacy)\)')
        assert _rule(
            gone,
            r'rule "-A POSTROUTING -s 172\.17\.0\.0/16 ! -o docker0 -j MASQUERADE" .*',
        )
        assert f"file {PODMAN_LEASE}" in gone
        # left alone: what its commands do not reach
        for kept in (
            f"file {PODMAN_CONFLIST}",
            "link br-lab (bridge)",
            "link docker0 (bridge)",
            "route 203.0.113.0/24 via 192.0.2.254 dev br-lab",
        ):
            assert kept not in gone, kept
        assert not article.doc["final"][node]["changed"]


def test_each_step_says_what_it_did_on_each_node(article: Validated) -> None:
    flush = next(s for s in article.doc["steps"] if s["source"] == "sudo iptables -F")
    for node in article.nodes:
        effect = flush["effects"][node]
        assert _rule(
            effect["destroyed"], r'rule "-A INPUT -p tcp --dport 22 -j ACCEPT" .*'
        )
        assert _rule(effect["removed"], r'rule "-A FLANNEL-FWD .*" .*')
    rm_cni = next(
        s for s in article.doc["steps"] if s["source"] == "sudo rm -rf /var/lib/cni/"
    )
    assert all(
        f"file {PODMAN_LEASE}" in rm_cni["effects"][n]["destroyed"]
        for n in article.nodes
    )
    assert all(s["executions"] for s in article.doc["steps"])
    assert all(s["seconds"] >= 0 and s["line"] > 0 for s in article.doc["steps"])


def test_kubectl_line_ran_once_with_the_pinned_manifest(article: Validated) -> None:
    first = article.step(1)
    assert first["kind"] == "kubectl" and [e["where"] for e in first["executions"]] == [
        "cluster"
    ]
    assert any("once against the cluster" in n for n in first["notes"])
    assert any("→ pinned fixture kube-flannel-" in n for n in first["notes"])
    shell = article.step(2)
    assert sorted(e["where"] for e in shell["executions"]) == sorted(article.nodes)


def test_new_pods_get_podmans_network_after_it(article: Validated) -> None:
    """The flannel conflist is gone and podman's is the only one left: the runtime uses
    the first config in lexical order (kube-router-footprint.md §3.2), so new pods come
    up on podman's 10.88.0.0/16 bridge, not the cluster's pod network."""
    probes = [p for p in article.doc["pods"] if p["pod"].startswith("probe-")]
    assert sorted(p["node"] for p in probes) == sorted(article.nodes)
    for p in probes:
        assert p["phase"] == "Running" and p["ip"].startswith("10.88."), p
        assert "87-podman-bridge.conflist" in p["message"], p


def test_progress_was_live(article: Validated) -> None:
    lines = article.progress.splitlines()
    for step in article.doc["steps"]:
        assert any(f"step {step['number']} (line {step['line']})" in ln for ln in lines)


def test_html_report_in_headless_chromium(article: Validated) -> None:
    why = unavailable()
    if why:
        pytest.skip(why)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / "validate-article-report.png"
    kept = ARTIFACTS / "validate-article-report.html"
    kept.write_bytes(article.report.read_bytes())
    view = open_page(article.report, shot, ids=("verdict", "nodes", "timeline", "pods"))
    assert view.console_errors == []
    assert view.requests == []  # nothing fetched: the file is self-contained
    assert "FAIL: CNI objects left, foreign objects destroyed" in view.text
    visible, top = view.shown["verdict"]
    assert visible and top < 300  # at the top of the page
    assert all(view.shown[i][0] for i in ("nodes", "timeline", "pods"))
    assert "file /opt/cni/bin/flannel" in view.text
    assert shot.stat().st_size > 10_000 and Path(shot).read_bytes()[:4] == b"\x89PNG"
