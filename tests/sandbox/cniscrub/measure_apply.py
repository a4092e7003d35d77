"""Measure `cniscrub plan/apply/verify` against a k3s-killall-style cleanup on the same
generated node state (run as root; not a test). Usage::

    .venv/bin/python tests/sandbox/cniscrub/measure_apply.py PEERS PODS FOREIGN_RULES

Peers are capped at 250 by the /16 cluster network with /24 podCIDRs. Prints one JSON
line: seconds per step and foreign rules left (cniscrub must keep all of them).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import csb_residue as residue
from csb_nodebuilder import Node


def build(tmp: Path, peers: int, pods: int, rules: int) -> Node:
    node = Node.create(tmp)
    node.underlay()
    residue.foreign(node, backends=("nft",))
    lines = ["*filter", ":KUBE-SVC-BENCH - [0:0]"]
    lines += [
        f"-A KUBE-SVC-BENCH -d 198.19.{i // 250}.{i % 250}/32 -p tcp "
        f"--dport {1000 + i % 5000} -j RETURN"
        for i in range(rules)
    ]
    node.ipt("nft", 4, "\n".join([*lines, "COMMIT", ""]))
    residue.flannel(
        node, version="v0.27", backend="nft", peers=min(peers, 250), pods=pods
    )
    return node


def k3s_style(node: Node) -> None:
    """cleanup-anchors.md §1: veths one by one, known names, rm -rf, grep|restore."""
    for line in node.exec(["ip", "-o", "link", "show", "master", "cni0"]).splitlines():
        node.exec(
            ["ip", "link", "delete", line.split(":")[1].strip().split("@")[0]],
            check=False,
        )
    for name in (
        "cni0",
        "flannel.1",
        "flannel-v6.1",
        "kube-ipvs0",
        "flannel-wg",
        "flannel-wg-v6",
    ):
        node.exec(["ip", "link", "delete", name], check=False)
    subprocess.run(["rm", "-rf", str(node.root / "var/lib/cni")], check=False)
    for fam in ("iptables", "ip6tables"):
        kept = [
            ln
            for ln in node.exec([f"{fam}-nft-save"]).splitlines()
            if "KUBE-" not in ln and "CNI-" not in ln and "flannel" not in ln.lower()
        ]
        node.exec([f"{fam}-nft-restore"], "\n".join(kept) + "\n")


def timed(node: Node, *args: str) -> float:
    start = time.monotonic()
    res = node.cli(*args, "--root", str(node.root))
    assert res.returncode in (0, 2), res.stderr
    return round(time.monotonic() - start, 3)


def main() -> None:
    peers, pods, rules = map(int, sys.argv[1:4])
    out: dict[str, object] = {"peers": min(peers, 250), "pods": pods, "rules": rules}
    for who in ("cniscrub", "k3s"):
        with tempfile.TemporaryDirectory() as tmp:
            node = build(Path(tmp), peers, pods, rules)
            try:
                if who == "cniscrub":
                    out["plan_s"] = timed(node, "plan", "--cni", "flannel")
                    out["apply_s"] = timed(
                        node,
                        "apply",
                        "--cni",
                        "flannel",
                        "--yes",
                        "--lock-file",
                        f"{tmp}/l",
                        "--journal-dir",
                        f"{tmp}/j",
                    )
                    out["verify_s"] = timed(node, "verify", "--cni", "flannel")
                else:
                    start = time.monotonic()
                    k3s_style(node)
                    out["k3s_s"] = round(time.monotonic() - start, 3)
                saved = node.exec(["iptables-nft-save"])
                out[f"{who}_foreign_rules_left"] = saved.count("KUBE-SVC-BENCH -d")
            finally:
                node.destroy()
    print(json.dumps(out))


if __name__ == "__main__":
    main()
