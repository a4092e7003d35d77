"""Journal integrity on a real node (issue 13, class 2): tamper with each kind of
backup event -- file, iptables rule, iptables chain, nft table, route, link -- and
restore refuses exactly those events by line, restores everything else, and never lets
a forged object (an extra iptables rule, an extra nft table) reach the node.
"""

from __future__ import annotations

import base64
import json
import shutil
import sys
from pathlib import Path
from typing import Any

import csb_residue as residue
import pytest
from csb_nodebuilder import Node
from test_cniscrub_sandbox_apply import cli

sys.path.insert(0, str(Path(__file__).parents[2] / "unit/cniscrub"))  # shared helper
from journal_forgery import Event, edit, forge_everything, lines

pytestmark = [pytest.mark.sandbox, pytest.mark.timeout(240)]
KINDS = ("file", "ipt_rule", "ipt_chain", "nft_table", "route", "link")


def _applied(node: Node, tmp: Path) -> tuple[str, list[str]]:
    """A node with Flannel residue of every kind, cleaned: (journal, plan targets)."""
    residue.foreign(node)
    residue.flannel(node, backend="nft", blackhole=True)
    node.nft(residue.nft_tables(False))
    out = cli(node, tmp, "apply", "--cni", "flannel", "--yes", "--json")
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    return doc["journal"], [a["target"] for a in doc["plan"]["actions"]]


def _present(node: Node, tmp: Path) -> set[str]:
    out = cli(node, tmp, "plan", "--cni", "flannel", "--json")
    return {a["target"] for a in json.loads(out.stdout)["actions"]}


def _spoil(e: Event) -> None:
    """Change what a backup would put back (its digest left as it was)."""
    p, kind = e["payload"], e["action"]["kind"]
    if kind == "file":
        p["data_b64"] = base64.b64encode(b"changed").decode()
    elif kind == "nft_table":
        p["text"] = p["text"].replace("accept", "drop")
    else:
        p["resource"]["mtu" if kind == "link" else "table"] = 7


def _first_backup_of_each_kind(journal: str) -> dict[str, int]:
    """Line of one backup per kind, picking objects no other object depends on."""
    out: dict[str, int] = {}
    for n, e in enumerate(lines(journal), 1):
        a = e["action"] if e["event"] == "backup" else {}
        kind = a.get("kind")
        if (
            kind in out
            or kind is None
            or (kind == "file" and "/networks/" not in a["key"])
        ):
            continue
        if kind == "link" and a["key"] != "flannel.1":
            continue
        if kind == "ipt_chain" and "FLANNEL-POSTRTG" not in a["key"]:
            continue
        if kind == "ipt_rule" and "FLANNEL-POSTRTG" in a["target"]:
            continue  # the jump to the chain refused above would fail anyway
        out[kind] = n
    return out


def test_each_kind_of_tampered_backup_is_refused_by_name(
    node: Node, tmp_path: Path
) -> None:
    journal, targets = _applied(node, tmp_path)
    picked = _first_backup_of_each_kind(journal)
    assert sorted(picked) == sorted(KINDS)
    tampered = {lines(journal)[n - 1]["action"]["target"]: n for n in picked.values()}
    for n in picked.values():
        edit(journal, n, _spoil)
    out = cli(node, tmp_path, "restore", journal, "--yes", "--json")
    assert out.returncode == 3, out.stderr
    doc = json.loads(out.stdout)
    refused = {
        r["target"]: r["error"] for r in doc["results"] if r["status"] == "refused"
    }
    assert set(refused) == set(tampered)
    for target, n in tampered.items():
        assert (
            f"line {n}" in refused[target]
            and "changed after it was written" in refused[target]
        )
    assert {r["status"] for r in doc["results"]} <= {"restored", "refused", "failed"}
    failed = [r["target"] for r in doc["results"] if r["status"] == "failed"]
    assert all("FLANNEL-POSTRTG" in t for t in failed)  # jumps to the refused chain
    present = _present(node, tmp_path)
    assert not present & set(tampered)  # nothing it could not trust was put back
    assert set(targets) - set(tampered) - set(failed) <= present | _covered(targets)


def _covered(targets: list[str]) -> set[str]:
    """Targets that come back only with their (refused) device: its routes."""
    return {t for t in targets if t.startswith("route") and "flannel.1" in t}


def test_forged_objects_never_reach_the_node(node: Node, tmp_path: Path) -> None:
    """A forger who rewrites plan.json and the whole chain alike: the rule spec with a
    second iptables command and the nft text with a second table are still refused."""
    journal, _ = _applied(node, tmp_path)
    forged = str(tmp_path / "forged")
    shutil.copytree(journal, forged)

    def change(events: list[Event], plan: Event) -> None:
        for e in events:
            if e["event"] != "backup":
                continue
            a = next(x for x in plan["actions"] if x["id"] == e["action"]["id"])
            data: Any = a["data"]["resource"]["data"]
            if e["action"]["kind"] == "ipt_rule" and data["chain"] == "FORWARD":
                data["spec"] += "\n-A INPUT -s 198.18.0.0/15 -j DROP"
                e["payload"]["resource"] = data
            if e["action"]["kind"] == "nft_table":
                e["payload"]["text"] += "table inet evil {\n}\n"

    forge_everything(forged, change)
    out = cli(node, tmp_path, "restore", forged, "--yes", "--json")
    assert out.returncode == 3, out.stderr
    reasons = [
        r["error"]
        for r in json.loads(out.stdout)["results"]
        if r["status"] == "refused"
    ]
    assert any("line break" in r for r in reasons)
    assert any("text after the table block" in r for r in reasons)
    saved = node.net_exec(["iptables-nft-save"]).stdout
    saved += node.net_exec(["iptables-legacy-save"]).stdout
    assert "198.18.0.0/15 -j DROP" not in saved
    assert "evil" not in node.net_exec(["nft", "list", "tables"]).stdout
