"""What the ``cniscrub cluster`` sandbox tests share: run the installed command against a
cluster, read the API stand-in's audit log, and probe a node for Flannel's residue
independently of the cleaner (from the cited facts, not from cniscrub's footprint).

Facts: flannel-footprint.md §7 (what a Flannel install leaves on a node: the conflist,
the plugin binary, subnet.env, flannel.1 and cni0, the FLANNEL-* chains, the nft
tables; in the cluster: the node annotations ``flannel.alpha.coreos.com/*`` and the
``NetworkUnavailable``/``FlannelIsUp`` condition, §2.7); kube-api-standin.md (the audit
log records method, path, time, user agent).
"""

from __future__ import annotations

import calendar
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.emulation.apiserver.audit import read_events
from harness.flannel_install import install
from harness.kube import kubectl_json
from harness.matrix import DEFAULT_FLANNEL_VERSION, manifest_path
from harness.providers.base import Cluster, Node

CNISCRUB = str(Path(sys.executable).with_name("cniscrub"))  # the installed command
ANNOTATION_PREFIX = "flannel.alpha.coreos.com/"  # flannel-footprint.md §2.7
CONDITION_REASON = "FlannelIsUp"  # §2.7
# §7: kube-flannel.yml's objects, in the dependency order cniscrub promises
DELETE_ORDER = [
    "/apis/apps/v1/namespaces/kube-flannel/daemonsets/kube-flannel-ds",
    "/api/v1/namespaces/kube-flannel/configmaps/kube-flannel-cfg",
    "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/flannel",
    "/apis/rbac.authorization.k8s.io/v1/clusterroles/flannel",
    "/api/v1/namespaces/kube-flannel/serviceaccounts/flannel",
    "/api/v1/namespaces/kube-flannel",
]
PROBE = r"""
for f in /etc/cni/net.d/10-flannel.conflist /opt/cni/bin/flannel /run/flannel/subnet.env; do
  [ -e "$f" ] && echo "file $f"
done
for l in flannel.1 cni0; do ip link show "$l" >/dev/null 2>&1 && echo "link $l"; done
for s in iptables-nft-save iptables-legacy-save; do
  command -v $s >/dev/null && $s 2>/dev/null | grep -E '^:FLANNEL-|flanneld' | sed "s/^/$s /"
done
nft list tables 2>/dev/null | grep -i flannel
exit 0
"""


@dataclass
class Run:
    rc: int
    doc: dict[str, Any]
    stderr: str


def run_cluster(cluster: Cluster, *args: str, timeout: float = 300.0) -> Run:
    """``cniscrub cluster <args> --json`` against the cluster, as a user runs it."""
    proc = subprocess.run(
        [CNISCRUB, "cluster", *args, "--json"],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "KUBECONFIG": str(cluster.kubeconfig)},
        check=False,
    )
    try:
        doc = json.loads(proc.stdout)
    except ValueError:
        raise AssertionError(
            f"no JSON (rc {proc.returncode}): {proc.stdout}\n{proc.stderr}"
        ) from None
    assert doc["exit_code"] == proc.returncode
    return Run(proc.returncode, doc, proc.stderr)


def flannel_up(cluster: Cluster) -> None:
    """Flannel installed and up on every node (idempotent)."""
    install(cluster, manifest_path(DEFAULT_FLANNEL_VERSION))


def residue(node: Node) -> list[str]:
    """Flannel's node residue as the node's own tools see it (§7)."""
    return node.exec(["sh", "-c", PROBE]).stdout.split("\n")[:-1]


def cluster_residue(cluster: Cluster) -> dict[str, Any]:
    """Node annotations with Flannel's prefix and FlannelIsUp conditions (§2.7)."""
    out: dict[str, Any] = {}
    for node in kubectl_json(cluster, "get", "nodes")["items"]:
        meta, status = node["metadata"], node.get("status") or {}
        keys = [
            k for k in meta.get("annotations") or {} if k.startswith(ANNOTATION_PREFIX)
        ]
        conds = [
            c
            for c in status.get("conditions") or []
            if c.get("reason") == CONDITION_REASON
        ]
        if keys or conds:
            out[meta["name"]] = {"annotations": keys, "conditions": conds}
    return out


def _epoch(stamp: str) -> float:
    base, frac = stamp.rstrip("Z").split(".")
    return calendar.timegm(time.strptime(base, "%Y-%m-%dT%H:%M:%S")) + float(
        f"0.{frac}"
    )


class Audit:
    """The API stand-in's audit log (every request, in-process writes included)."""

    def __init__(self, cluster: Cluster, since: int = 0) -> None:
        self.events = read_events(Path(cluster.state_dir) / "audit.log")[since:]

    @staticmethod
    def mark(cluster: Cluster) -> int:
        path = Path(cluster.state_dir) / "audit.log"
        return len(read_events(path)) if path.exists() else 0

    def by(self, agent_prefix: str) -> list[dict[str, Any]]:
        return [
            e for e in self.events if e.get("userAgent", "").startswith(agent_prefix)
        ]

    def cniscrub(
        self, verbs: Iterable[str] = ("create", "delete", "patch", "update")
    ) -> list[dict[str, Any]]:
        return [e for e in self.by("cniscrub/") if e["verb"] in verbs]

    @staticmethod
    def path(event: dict[str, Any]) -> str:
        return str(event["requestURI"]).split("?", 1)[0]

    @staticmethod
    def start(event: dict[str, Any]) -> float:
        return _epoch(event["requestReceivedTimestamp"])

    @staticmethod
    def end(event: dict[str, Any]) -> float:
        return _epoch(event["stageTimestamp"])

    def job_intervals(self) -> dict[str, list[float]]:
        """Each node Job cniscrub made: [its POST received, its DELETE answered]
        (the audit names a created object, as kube-apiserver's does)."""
        spans: dict[str, list[float]] = {}
        for e in self.cniscrub():
            path = self.path(e)
            if e["verb"] == "create" and path.endswith("/jobs"):
                spans[e["objectRef"]["name"]] = [self.start(e), float("inf")]
            elif e["verb"] == "delete" and "/jobs/" in path:
                name = path.rsplit("/", 1)[1]
                if name in spans and spans[name][1] == float("inf"):
                    spans[name][1] = self.end(e)
        return spans


def max_overlap(spans: Iterable[list[float]]) -> int:
    """The most intervals open at one instant."""
    edges = sorted(
        [(a, 1) for a, _ in spans] + [(b, -1) for _, b in spans],
        key=lambda x: (x[0], x[1]),
    )
    most = now = 0
    for _, step in edges:
        now += step
        most = max(most, now)
    return most


def node_result(doc: dict[str, Any], node: str) -> dict[str, Any]:
    return next(r for r in doc["node_results"] if r["node"] == node)


def check_clean_apply(
    cluster: Cluster, doc: dict[str, Any], audit: Audit, parallel: int
) -> None:
    """The promises of one ``cluster apply`` on a cluster with Flannel up: objects
    deleted in dependency order; no node Job before every agent pod was gone (the
    kubelets' final deletes); never more than ``parallel`` Jobs at once; annotations and
    condition removed after the Jobs; every node clean inside; each node's summary row
    equal to its own report (the pod log's document and the node's journal)."""
    nodes = {n.name: n for n in cluster.nodes}
    assert doc["clean"] and {r["verdict"] for r in doc["node_results"]} == {"clean"}
    assert [r["node"] for r in doc["node_results"]] == sorted(nodes)
    deletes = [
        Audit.path(e)
        for e in audit.cniscrub(("delete",))
        if "/jobs/" not in e["requestURI"]
    ]
    assert deletes == DELETE_ORDER
    finals = [
        e
        for e in audit.by("kubelet/")
        if e["verb"] == "delete" and "/namespaces/kube-flannel/pods/" in e["requestURI"]
    ]
    assert len({Audit.path(e) for e in finals}) == len(nodes)
    spans = audit.job_intervals()
    assert len(spans) == len(nodes)
    assert max(Audit.end(e) for e in finals) <= min(a for a, _ in spans.values())
    assert max_overlap(spans.values()) <= parallel
    patches = [e for e in audit.cniscrub(("patch",)) if "/nodes/" in e["requestURI"]]
    assert len(patches) == 2 * len(nodes)  # annotations, then the condition
    assert min(Audit.start(e) for e in patches) >= max(b for _, b in spans.values())
    assert cluster_residue(cluster) == {}
    for name, node in nodes.items():
        assert residue(node) == [], name  # clean, as the node's own tools see it
        result = node_result(doc, name)
        report = result["report"]  # the node's own report, from its pod log
        assert report["schema"] == "cniscrub/apply/v1" and report["exit_code"] == 0
        statuses = [r["status"] for r in report["results"]]
        counts = {
            s: statuses.count(s) for s in ("applied", "noop", "failed", "skipped")
        }
        assert counts["applied"] > 0
        assert {k: result["counts"][k] for k in counts} == counts
        # ... and as the journal that run wrote on the node has it
        lines = node.read_file(f"{result['journal']}/journal.jsonl").decode()
        events = [json.loads(line) for line in lines.splitlines()]
        done = [(e["action"], e["status"]) for e in events if e["event"] == "result"]
        assert done == [(r["action"], r["status"]) for r in report["results"]]
