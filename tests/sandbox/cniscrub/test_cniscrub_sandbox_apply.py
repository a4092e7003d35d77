"""Real-kernel tests: Flannel residue of each version/backend next to foreign state.

Each case builds a throwaway node (its own netns + a temp --root), takes a snapshot of
the foreign-only state, adds Flannel residue with real tools, then checks: plan lists
work (exit 2), apply exit 0, zero Flannel residue, the node equals the foreign-only
snapshot (every foreign object intact), verify exit 0, second apply a no-op, and
restore brings back exactly the state before apply.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import csb_residue as residue
import pytest
from csb_nodebuilder import Node
from csb_state import diff, flannel_leftovers, snapshot

pytestmark = [pytest.mark.sandbox, pytest.mark.timeout(240)]

CASES: dict[str, dict[str, Any]] = {
    # fact: flannel-footprint.md §2.6 (v0.22-v0.24: full rules stay after stop)
    "v0.24-nft": {"version": "v0.24", "backend": "nft"},
    # fact: §2.6 (v0.25-v0.26 graceful stop leaves empty FLANNEL-* chains)
    "v0.26-legacy": {"version": "v0.26", "backend": "legacy"},
    # fact: §2.6 (v0.27+ removes nothing on SIGTERM)
    "v0.27-nft": {"version": "v0.27", "backend": "nft", "blackhole": True},
    "v0.27-legacy-dualstack": {"version": "v0.27", "backend": "legacy", "dual": True},
    # fact: §2.5 (EnableNFTables: tables ip flannel-ipv4 / ip6 flannel-ipv6)
    "nft-mode-dualstack": {"nft_mode": True, "dual": True},
    # fact: §2.3 host-gw (routes to peers' podCIDRs via their IPs, no device)
    "host-gw-legacy": {"host_gw_mode": True, "backend": "legacy", "peers": 4},
    # fact: §2.3 udp backend (tun flannel0) and §4 bridge ipMasq CNI-<hash> chains
    # (flanneld without --ip-masq)
    "udp-no-ip-masq-nft": {"udp_mode": True, "no_ip_masq": True, "backend": "nft"},
}


def cli(node: Node, tmp: Path, *args: str) -> Any:
    extra = []
    if args[0] in ("apply", "restore"):
        extra = ["--lock-file", str(tmp / "lock")]
    if args[0] == "apply":
        extra += ["--journal-dir", str(tmp / "journal")]
    return node.cli(*args, "--root", str(node.root), *extra)


@pytest.mark.parametrize("case", sorted(CASES))
def test_apply_verify_idempotent_restore(node: Node, tmp_path: Path, case: str) -> None:
    residue.foreign(node)
    residue.bridge_masq(node, "nft", 1, network="podman")  # foreign CNI-<hash> chain
    foreign_only = snapshot(node, pods=False)
    residue.flannel(node, **CASES[case])
    before = snapshot(node)

    planned = cli(node, tmp_path, "plan", "--cni", "flannel", "--json")
    assert planned.returncode == 2, planned.stderr
    plan = json.loads(planned.stdout)
    assert plan["actions"] and plan["fingerprint"]
    assert all(a["evidence"] for a in plan["actions"])

    applied = cli(node, tmp_path, "apply", "--cni", "flannel", "--yes", "--json")
    assert applied.returncode == 0, applied.stdout + applied.stderr
    report = json.loads(applied.stdout)
    assert report["verify"]["clean"] is True
    assert flannel_leftovers(node) == []
    after = snapshot(node, pods=False)
    assert diff(foreign_only, after) == {}, "foreign state changed"

    assert cli(node, tmp_path, "verify", "--cni", "flannel").returncode == 0
    again = cli(node, tmp_path, "apply", "--cni", "flannel", "--yes")
    assert again.returncode == 0 and "nothing to do" in again.stdout

    restored = cli(node, tmp_path, "restore", report["journal"], "--yes", "--json")
    bad = [
        r
        for r in json.loads(restored.stdout or '{"results": []}')["results"]
        if r["status"] not in ("restored", "noop")
    ]
    assert restored.returncode == 0, (bad, restored.stderr)
    assert diff(before, snapshot(node)) == {}, "restore is not exact"


def test_plan_lists_left_alone_and_pods(node: Node, tmp_path: Path) -> None:
    residue.foreign(node)
    residue.flannel(node, pods=2)
    out = cli(node, tmp_path, "plan", "--cni", "flannel")
    assert out.returncode == 2
    lines = out.stdout.splitlines()
    assert any(
        ln.startswith("[plan] Would delete chain FLANNEL-FWD (filter, nft backend")
        for ln in lines
    )
    assert (
        sum(
            "will lose its network; recreate it once the next CNI is up" in ln
            for ln in lines
        )
        == 2
    )
    assert any("Pod sandbox pod default/web-0 " in ln for ln in lines)
    assert any(
        "Left alone: chain CNI-HOSTPORT-DNAT" in ln and "87-podman-bridge" in ln
        for ln in lines
    )
    assert not any("KUBE-" in ln or "DOCKER" in ln for ln in lines if "Would" in ln)


def test_empty_node_plan_has_fingerprint(node: Node, tmp_path: Path) -> None:
    out = cli(node, tmp_path, "plan", "--cni", "flannel", "--json")
    assert out.returncode == 0
    assert len(json.loads(out.stdout)["fingerprint"]) == 64


def test_veth_with_gone_netns_is_not_restorable(node: Node, tmp_path: Path) -> None:
    residue.flannel(node, pods=1)
    applied = cli(node, tmp_path, "apply", "--cni", "flannel", "--yes", "--json")
    assert applied.returncode == 0
    for pod in node.pods:
        node.pods.remove(pod)
        from csb_nodebuilder import run

        run(["ip", "netns", "del", pod])
    res = cli(
        node,
        tmp_path,
        "restore",
        json.loads(applied.stdout)["journal"],
        "--yes",
        "--json",
    )
    assert res.returncode == 3
    statuses = {r["status"] for r in json.loads(res.stdout)["results"]}
    assert "not restorable" in statuses
    assert any(
        ln.startswith("cni0") or "flannel.1" in ln
        for ln in node.ip("-o", "link").splitlines()
    )


HOST_PATHS = ("/etc/cni", "/opt/cni", "/var/lib/cni", "/run/flannel")


def _restore_guarded(node: Node, tmp_path: Path, *args: str) -> Any:
    """`restore` without --root, failing the test if it wrote into this machine's own
    CNI paths (and cleaning them up if it ever did)."""
    existed = {p for p in HOST_PATHS if os.path.lexists(p)}
    try:
        out = node.cli("restore", *args, "--yes", "--lock-file", str(tmp_path / "lock"))
        created = [p for p in HOST_PATHS if os.path.lexists(p) and p not in existed]
    finally:  # a regression must not leave files on this machine
        for path in HOST_PATHS:
            if path not in existed and os.path.lexists(path):
                shutil.rmtree(path)
    assert created == []
    return out


def test_restore_without_root_uses_the_apply_root_only_when_confirmed(
    node: Node, tmp_path: Path
) -> None:
    """`restore JOURNAL` without --root puts files back under the root the apply run
    used -- when the journal sits in that root's journal directory (where apply keeps
    it), or with --journal-root; a journal kept elsewhere cannot choose the root on
    its own. Never into the root of the machine running it."""
    residue.flannel(node)
    before = snapshot(node)
    root, lock = str(node.root), ["--lock-file", str(tmp_path / "lock")]
    applied = node.cli(
        "apply", "--cni", "flannel", "--yes", "--json", "--root", root, *lock
    )
    assert applied.returncode == 0, applied.stderr
    journal = json.loads(applied.stdout)["journal"]
    moved = str(tmp_path / "elsewhere")
    shutil.copytree(journal, moved)
    refused = _restore_guarded(node, tmp_path, moved)
    assert refused.returncode == 4 and f"--root {node.root}" in refused.stderr
    restored = _restore_guarded(node, tmp_path, journal)
    assert restored.returncode == 0, restored.stdout + restored.stderr
    assert f"[restore] root: {node.root}" in restored.stdout
    after = snapshot(node)
    after["files"] = [f for f in after["files"] if "cniscrub" not in f["path"]]
    assert diff(before, after) == {}, "restore is not exact"
    again = _restore_guarded(node, tmp_path, moved, "--journal-root")
    assert again.returncode == 0 and "[restore] ✓ noop" in again.stdout
