"""The emulation answers to the real thing (issue 14): per Flannel version, the same
3-node cluster runs the real (upstream, built from its Go module) flanneld and then the
emulated one through the same story, and every node's state must be the same at each
step, up to the documented differences below:

1. ``installed``: ``kubectl apply -f`` of the manifest and one pod per worker;
2. ``deleted``: ``kubectl delete -f`` (flanneld gets SIGTERM; what each version removes
   differs, flannel-footprint.md §2.6);
3. ``rebooted``: a worker rebooted; the kubelet's new sandboxes fail (§3.4).

A version whose flanneld is not built here is skipped with the build record's reason
(``cniscrub-lab images list``). The CNI plugin is emulated in both clusters unless its
module builds too, so its part of the story is compared only where both are real.
Compared per node: :mod:`harness.realflannel.nodestate`; plus the Node objects'
annotations and NetworkUnavailable condition (§2.7).
"""

from __future__ import annotations

from typing import Any

import pytest

from harness import flannel_install
from harness.kube import kubectl_json
from harness.providers.base import Cluster
from harness.realflannel import nodestate
from harness.realflannel.resolve import manifest_choices
from harness.reproduce import (
    Reproduction,
    reboot_a_worker,
    start_pods,
    wait_for_sandbox_error,
)
from harness.wait import until

pytestmark = [pytest.mark.sandbox, pytest.mark.slow]

IMPLS = ("real", "emulated")
# Docker's FORWARD DROP policy and its chains, kube-proxy's chains: where Flannel's
# rules land among them, and that it keeps them, is compared too
FOREIGN_RULES = """*filter
:FORWARD DROP [0:0]
:DOCKER-USER - [0:0]
:KUBE-FORWARD - [0:0]
-A FORWARD -j DOCKER-USER
-A FORWARD -m comment --comment "kubernetes forwarding rules" -j KUBE-FORWARD
-A DOCKER-USER -j RETURN
COMMIT
*nat
:KUBE-POSTROUTING - [0:0]
-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING
-A KUBE-POSTROUTING -m mark --mark 0x4000/0x4000 -j MASQUERADE --random-fully
COMMIT
"""
STAGES = ("installed", "deleted", "rebooted")
# Differences that remain, each with its reason (also in fixtures/manifests/README.md).
# key: (stage or "*", the difference's path prefix) -> why it is accepted
KNOWN: dict[tuple[str, str], str] = {}


def _flanneld_gone(cluster: Cluster) -> None:
    for node in cluster.nodes:
        until(
            lambda n=node: (
                "flanneld" not in n.exec(["ps", "-eo", "comm"], check=False).stdout
            ),
            timeout=60,
            interval=0.2,
            what=f"flanneld gone on {node.name}",
        )


def _flanneld_exe(cluster: Cluster) -> dict[str, str]:
    """Node -> the executable its flanneld process runs (``flanneld`` or ``python``)."""
    script = 'p=$(pgrep -x flanneld | head -1); basename "$(readlink /proc/$p/exe)"'
    out = {}
    for node in cluster.nodes:
        exe = node.exec(["sh", "-c", script]).stdout.strip()
        out[node.name] = "python" if exe.startswith("python") else exe
    return out


def _snap(cluster: Cluster, only: str | None = None) -> dict[str, Any]:
    order = [n.name for n in cluster.nodes]
    objects = kubectl_json(cluster, "get", "nodes")["items"]
    vteps = nodestate.vtep_names(objects, order)
    by_name = {o["metadata"]["name"]: o for o in objects}
    out: dict[str, Any] = {}
    for index, node in enumerate(cluster.nodes):
        if only and node.name != only:
            continue
        snap = nodestate.snapshot(node, vteps)
        snap["node"] = nodestate.node_object(by_name[node.name], vteps)
        out[f"node{index}"] = snap
    return out


def _story(cluster: Cluster, version: str) -> dict[str, dict[str, Any]]:
    manifest = flannel_install.manifest_path(version)
    r = Reproduction(cluster, manifest, version, "containerd-1.7")
    for node in cluster.nodes:  # what a real node has beside Flannel
        node.exec(["iptables-restore", "--noflush", "-w"], input=FOREIGN_RULES)
    flannel_install.install(cluster, manifest)
    start_pods(r, per_worker=1)
    snaps = {"installed": _snap(cluster), "exe": _flanneld_exe(cluster)}
    flannel_install.uninstall(cluster, manifest)
    _flanneld_gone(cluster)
    snaps["deleted"] = _snap(cluster)
    node = reboot_a_worker(r)
    wait_for_sandbox_error(r)
    snaps["rebooted"] = _snap(cluster, only=node.name)
    return snaps


@pytest.fixture(scope="module")
def clusters() -> dict[str, Cluster]:
    """The clusters the stories ran on, by implementation."""
    return {}


@pytest.fixture(scope="module")
def stories(
    cluster_factory_module: Any, flannel_version: str, clusters: dict[str, Cluster]
) -> dict[str, dict[str, dict[str, Any]]]:
    manifest = flannel_install.manifest_path(flannel_version)
    choices = manifest_choices(manifest, "real")
    flanneld = next(
        c for c in choices if c.program and c.program.image_repo == "flannel"
    )
    if flanneld.impl != "real":
        pytest.skip(f"flanneld {flannel_version} is not built here: {flanneld.reason}")
    out = {}
    for impl in IMPLS:
        cluster = cluster_factory_module(nodes=3, extra={"flannel_impl": impl})
        clusters[impl] = cluster
        out[impl] = _story(cluster, flannel_version)
    return out


def _unexplained(stage: str, diffs: list[str]) -> list[str]:
    return [
        d
        for d in diffs
        if not any(s in (stage, "*") and d.startswith(prefix) for s, prefix in KNOWN)
    ]


@pytest.mark.parametrize("stage", STAGES)
def test_node_state_matches_the_real_flanneld(
    stories: dict[str, dict[str, dict[str, Any]]], stage: str
) -> None:
    real, emulated = stories["real"][stage], stories["emulated"][stage]
    assert sorted(real) == sorted(emulated)
    diffs = []
    for node in sorted(real):
        diffs += [
            f"{node}.{d}" for d in nodestate.differences(real[node], emulated[node])
        ]
    unexplained = _unexplained(stage, [d.split(".", 1)[1] for d in diffs])
    assert unexplained == [], "\n".join(diffs)


def test_each_cluster_ran_the_implementation_it_was_given(
    stories: dict[str, dict[str, dict[str, Any]]],
) -> None:
    """Not the emulation compared with itself: the real cluster's flanneld processes
    were the built binary, the emulated cluster's were Python."""
    assert set(stories["real"]["exe"].values()) == {"flanneld"}
    assert set(stories["emulated"]["exe"].values()) == {"python"}


FLANNEL_LINKS = ("flannel.1", "cni0", "veth*")


def _foreign(snap: dict[str, Any]) -> dict[str, Any]:
    """The part of a node snapshot that is not Flannel's (nor its CNI delegates')."""

    def ours(text: str) -> bool:
        return "FLANNEL" in text or "flanneld" in text

    return {
        "links": [x for x in snap["links"] if x["name"] not in FLANNEL_LINKS],
        "addresses": [a for a in snap["addresses"] if a[0] not in FLANNEL_LINKS],
        "routes": [r for r in snap["routes"] if r[4] not in FLANNEL_LINKS],
        "iptables": {
            tool: [line for line in lines if not ours(line)]
            for tool, lines in snap["iptables"].items()
        },
        "nft": snap["nft"],
        "sysctls": {k: v for k, v in snap["sysctls"].items() if "flannel.1" not in k},
    }


def test_cleaner_on_nodes_real_flanneld_installed(
    stories: dict[str, dict[str, dict[str, Any]]], clusters: dict[str, Cluster]
) -> None:
    """Zero Flannel residue and zero foreign loss after ``cniscrub apply`` on every
    node of the real cluster (after ``kubectl delete -f`` and a reboot)."""
    cluster = clusters["real"]
    before = _snap(cluster)
    kept: list[str] = []
    for index, node in enumerate(cluster.nodes):
        apply = cluster.run_cleaner(node, ["apply", "--cni", "flannel", "--yes"])
        assert apply.rc == 0, apply.stdout + apply.stderr
        verify = cluster.run_cleaner(node, ["verify", "--cni", "flannel"])
        assert verify.rc == 0, verify.stdout + verify.stderr
        after = nodestate.snapshot(node, {})
        assert not [x for x in after["links"] if x["name"] in FLANNEL_LINKS]
        assert not any(
            "FLANNEL" in line or "flanneld" in line
            for lines in after["iptables"].values()
            for line in lines
        )
        assert after["subnet.env"] == ""
        assert not [p for p in after["files"] if "flannel" in p or "cbr0" in p]
        foreign = _foreign(before[f"node{index}"])
        assert _foreign(after) == foreign
        kept += foreign["iptables"]["iptables-nft-save"]
    # the foreign rules were there to lose (a rebooted node has none left)
    assert any("KUBE-POSTROUTING" in line for line in kept)
