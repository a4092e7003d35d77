"""Replay a journal in reverse: put back every object an apply removed.

Order: files (directories first), links (bridge before its veths) with their
addresses/routes/neighbours/FDB, routes, nft tables, iptables chains with their rules,
then jump rules at their original positions. Each step first checks whether the object
already exists, so restore is idempotent. A veth whose pod netns still exists comes back
with its pod-side name, MAC, addresses and routes; one whose netns is gone is reported
as ``not restorable``.

>>> restore_order([{"id": 1, "kind": "ipt_rule"}, {"id": 2, "kind": "file"}])[0]["id"]
2
"""

from __future__ import annotations

import time
from typing import Any

from cniscrub.apply import restore_links
from cniscrub.apply.journal import Journal
from cniscrub.apply.result import ActionResult, Status
from cniscrub.errors import CleanerError
from cniscrub.inventory.iptables import parse, tool
from cniscrub.node.rootfs import RootFS
from cniscrub.node.runner import Runner

RANK = {"file": 0, "link": 1, "route": 2, "nft_table": 3, "ipt_chain": 4, "ipt_rule": 5}


def restore_order(actions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    def key(a: dict[str, Any]) -> tuple[int, int, int]:
        pos = a.get("pos", 0)
        return (RANK[a["kind"]], -a["id"] if a["kind"] != "ipt_rule" else 0, pos)

    return sorted(actions, key=key)


def _file(fs: RootFS, journal: Journal, p: dict[str, Any]) -> str:
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
        fs.write(path, journal.bytes_of(p), p["mode"], p["uid"], p["gid"])
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
        if chain in chains:
            return "noop"
        lines += [f"-N {chain}"] + [f"-A {chain} {spec}" for spec in d["rules"]]
    else:
        have = chains.get(chain, {}).get("rules", [])
        if d["spec"] in have:
            return "noop"
        lines.append(f"-I {chain} {min(d['pos'], len(have) + 1)} {d['spec']}")
    text = "\n".join([*lines, "COMMIT", ""])
    runner.run([restore, "--noflush", "-w", "10"], stdin=text.encode()).check()
    return "restored"


def _one(
    journal: Journal, fs: RootFS, runner: Runner, a: dict[str, Any], p: dict[str, Any]
) -> tuple[str, str | None]:
    if p.get("gone"):
        return "noop", "was already gone at backup time"
    kind = a["kind"]
    if kind == "file":
        return _file(fs, journal, p), None
    if kind == "nft_table":
        return _nft(runner, p), None
    if kind in ("ipt_chain", "ipt_rule"):
        return _ipt(runner, kind, p["resource"]), None
    if kind == "route":
        return restore_links.route(p["resource"]), None
    return restore_links.link(runner, p)


def _restore_one(
    journal: Journal, fs: RootFS, runner: Runner, event: dict[str, Any], ref: str
) -> ActionResult:
    a, start = event["action"], time.monotonic()
    try:
        status, note = _one(journal, fs, runner, a, event["payload"])
    except (CleanerError, OSError, ValueError, KeyError) as exc:
        status, note = "failed", str(exc).splitlines()[0][:300]
    except Exception as exc:  # netlink errors: report, continue with the rest
        status, note = "failed", f"{type(exc).__name__}: {exc}"[:300]
    took = round(time.monotonic() - start, 6)
    return ActionResult(
        a["id"], a["target"], Status(status), note, took, ref, tag="restore"
    )


def restore_journal(journal: Journal, fs: RootFS, runner: Runner) -> list[ActionResult]:
    """Put back every backed-up object, in :func:`restore_order`; each result is
    appended to the journal as a ``restore`` event."""
    backups: dict[int, tuple[dict[str, Any], str]] = {}
    for line, e in enumerate(journal.events(), 1):
        if e.get("event") == "backup":
            backups[e["action"]["id"]] = (e, f"journal.jsonl:{line}")
    actions = restore_order([e["action"] for e, _ in backups.values()])
    results = []
    for a in actions:
        result = _restore_one(journal, fs, runner, *backups[a["id"]])
        results.append(result)
        journal.record({"event": "restore", **result.to_json()})
    return results
