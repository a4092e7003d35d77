"""Replay a journal in reverse: put back every object an apply removed -- and only
what the journal can vouch for.

The journal is read and checked first (:mod:`cniscrub.journal.reader`); each backup must
then pass :func:`cniscrub.apply.restore_checks.backup_problem`. A backup that fails is
refused by name and its object is left as it is; an action that apply removed but
whose backup is missing is reported. Everything else is restored in this order: files
(directories first), links (bridge before its veths) with their addresses/routes/
neighbours/FDB, routes and policy rules, ipsets, nft tables, iptables chains with their
rules, then jump rules at their original positions. Each step first checks whether the
object already exists, so restore is idempotent. A veth whose pod netns still exists
comes back with its pod-side name, MAC, addresses and routes; one whose netns is gone
is ``not restorable``.

>>> restore_order([{"id": 1, "kind": "ipt_rule"}, {"id": 2, "kind": "file"}])[0]["id"]
2
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from cniscrub.apply import ipset_ops, restore_links, rule_ops
from cniscrub.apply.restore_checks import backup_problem
from cniscrub.apply.result import ActionResult, Status
from cniscrub.errors import CleanerError
from cniscrub.inventory.iptables import parse, tool
from cniscrub.journal import filestore
from cniscrub.journal.reader import JournalView
from cniscrub.node.rootfs import RootFS
from cniscrub.node.runner import Runner

RANK = {
    "file": 0,
    "link": 1,
    "route": 2,
    "ip_rule": 2,
    "ipset": 3,  # before the iptables rules that use it
    "nft_table": 3,
    "ipt_chain": 4,
    "ipt_rule": 5,
}


def restore_order(actions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Plan actions in the order their objects come back."""

    def key(a: dict[str, Any]) -> tuple[int, int, int]:
        pos = a.get("data", {}).get("resource", {}).get("data", {}).get("pos", 0)
        return (RANK[a["kind"]], -a["id"] if a["kind"] != "ipt_rule" else 0, pos)

    return sorted(actions, key=key)


def _file(fs: RootFS, view: JournalView, p: dict[str, Any]) -> str:
    path = p["path"]
    if fs.lstat(path) is not None:
        return "noop"
    parent = path.rpartition("/")[0]
    if parent:
        fs.makedirs(parent)
    if p["type"] == "dir":
        fs.makedirs(path)
        fs.chown_chmod_dir(path, p["mode"], p["uid"], p["gid"])
    elif p["type"] == "symlink":
        fs.symlink(path, p["link_target"])
    else:
        fs.write(path, filestore.chunks(p, view.blobs), p["mode"], p["uid"], p["gid"])
    return "restored"


def _nft(runner: Runner, p: dict[str, Any]) -> str:
    if runner.run(["nft", "list", "table", p["family"], p["name"]]).ok:
        return "noop"
    runner.run(["nft", "-f", "-"], stdin=p["text"].encode()).check()
    return "restored"


def _ipt(runner: Runner, kind: str, d: dict[str, Any]) -> str:
    backend, family, table, chain = d["backend"], d["family"], d["table"], d["chain"]
    save, restore = (tool(runner, backend, family, v) for v in ("save", "restore"))
    if save is None or restore is None:
        raise CleanerError(f"no iptables {backend} tools for IPv{family}")
    current = parse(runner.run([save, "-t", table]).stdout, backend, family)
    chains = {r.data["chain"]: r.data for r in current if r.kind == "ipt_chain"}
    lines = [f"*{table}"]
    if kind == "ipt_chain":
        if chain in chains and (chains[chain]["rules"] or not d["rules"]):
            return "noop"
        if chain not in chains:
            lines.append(f"-N {chain}")
        lines += [f"-A {chain} {spec}" for spec in d["rules"]]
    else:
        have = chains.get(chain, {}).get("rules", [])
        if d["spec"] in have:
            return "noop"
        lines.append(f"-I {chain} {min(d['pos'], len(have) + 1)} {d['spec']}")
    text = "\n".join([*lines, "COMMIT", ""])
    runner.run([restore, "--noflush", "-w", "10"], stdin=text.encode()).check()
    return "restored"


def _declare_chains(
    runner: Runner,
    actions: list[dict[str, Any]],
    backups: dict[int, tuple[int, dict[str, Any]]],
) -> None:
    """Create every missing chain to restore, empty, before any is filled: a chain's
    rules may jump to another chain of the same journal. A chain made here and left
    empty is filled by its own step (an empty chain takes its recorded rules)."""
    wanted: dict[tuple[str, int, str], list[str]] = {}
    for a in actions:
        if a["kind"] != "ipt_chain":
            continue
        d = backups[a["id"]][1]["payload"].get("resource") or {}
        wanted.setdefault((d["backend"], d["family"], d["table"]), []).append(
            d["chain"]
        )
    for (backend, family, table), names in wanted.items():
        save, restore = (tool(runner, backend, family, v) for v in ("save", "restore"))
        if save is None or restore is None:
            continue  # the chain's own step reports it
        current = parse(runner.run([save, "-t", table]).stdout, backend, family)
        have = {r.data["chain"] for r in current if r.kind == "ipt_chain"}
        new = [f"-N {c}" for c in dict.fromkeys(names) if c not in have]
        if new:
            text = "\n".join([f"*{table}", *new, "COMMIT", ""])
            runner.run([restore, "--noflush", "-w", "10"], stdin=text.encode())


def _one(
    view: JournalView, fs: RootFS, runner: Runner, kind: str, p: dict[str, Any]
) -> tuple[str, str | None]:
    if p.get("gone"):
        return "noop", "was already gone at backup time"
    if kind == "file":
        return _file(fs, view, p), None
    if kind == "nft_table":
        return _nft(runner, p), None
    if kind in ("ipt_chain", "ipt_rule"):
        return _ipt(runner, kind, p["resource"]), None
    if kind == "route":
        return restore_links.route(p["resource"]), None
    if kind == "ip_rule":
        return rule_ops.restore(p["resource"]), None
    if kind == "ipset":
        return ipset_ops.restore(p["resource"]), None
    return restore_links.link(runner, p)


def _restore_one(
    view: JournalView,
    fs: RootFS,
    runner: Runner,
    a: dict[str, Any],
    backup: tuple[int, dict[str, Any]],
) -> ActionResult:
    line, event = backup
    ref, start = f"journal.jsonl:{line}", time.monotonic()
    why = backup_problem(event, a, view.blobs)
    if why:
        reason = f"journal.jsonl line {line} (backup of action {a['id']}): {why}; not restored"
        return ActionResult(
            a["id"], a["target"], Status.REFUSED, reason, 0.0, ref, "restore"
        )
    try:
        status, note = _one(view, fs, runner, a["kind"], event["payload"])
    except (CleanerError, OSError, ValueError, KeyError) as exc:
        status, note = "failed", str(exc).splitlines()[0][:300]
    except Exception as exc:  # netlink errors: report, continue with the rest
        status, note = "failed", f"{type(exc).__name__}: {exc}"[:300]
    took = round(time.monotonic() - start, 6)
    return ActionResult(
        a["id"], a["target"], Status(status), note, took, ref, "restore"
    )


@dataclass
class RestoreReport:
    """One restore run: a result per action it considered, and what in the journal
    could not be used."""

    results: list[ActionResult] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems and all(r.ok for r in self.results)


def _missing(view: JournalView, backed_up: set[int]) -> list[ActionResult]:
    """Actions apply reports as removed whose backup the journal does not hold."""
    out = []
    actions = {a["id"]: a for a in view.plan["actions"]}
    for line, e in view.of("result"):
        aid = e.get("action")
        if not isinstance(aid, int) or aid in backed_up or aid not in actions:
            continue
        if e.get("status") != "applied":
            continue
        why = view.untrusted.get(aid, "no backup event for it")
        reason = (
            f"removed by apply (journal.jsonl line {line}) but its backup cannot be "
            f"used: {why}"
        )
        out.append(
            ActionResult(
                aid, actions[aid]["target"], Status.REFUSED, reason, tag="restore"
            )
        )
    return out


def restore_journal(view: JournalView, fs: RootFS, runner: Runner) -> RestoreReport:
    """Put back every trusted backup of ``view``, in :func:`restore_order`."""
    report = RestoreReport(problems=list(view.problems), notes=list(view.notes))
    backups = {}
    for line, e in view.of("backup"):
        a = e.get("action")
        if isinstance(a, dict) and isinstance(a.get("id"), int):
            backups[a["id"]] = (line, e)
    planned = {a["id"]: a for a in view.plan["actions"] if a.get("id") in backups}
    for aid, (line, event) in backups.items():
        if aid not in planned:
            why = backup_problem(event, None, view.blobs)
            report.problems.append(f"journal.jsonl line {line}: {why}; not used")
    trusted = [
        a
        for a in planned.values()
        if not backup_problem(backups[a["id"]][1], a, view.blobs)
    ]
    _declare_chains(runner, trusted, backups)
    for a in restore_order(list(planned.values())):
        report.results.append(_restore_one(view, fs, runner, a, backups[a["id"]]))
    report.results += _missing(view, set(planned))
    return report


def record_report(journal: str, doc: dict[str, Any]) -> bool:
    """Keep a restore run's report next to its journal (``restore-<time>.json``;
    journal.jsonl itself is never changed after apply). False if it cannot be written
    (a full disk must not stop a restore)."""
    import json
    import os

    name = time.strftime("restore-%Y%m%dT%H%M%SZ.json", time.gmtime())
    try:
        with open(os.path.join(journal, name), "w", encoding="utf-8") as fh:
            fh.write(json.dumps(doc, sort_keys=True))
    except OSError:
        return False
    return True
