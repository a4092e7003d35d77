"""Execute a plan: lock held by the caller, back up each object into the journal before
touching it, run each phase in batches, record every result, continue past failures.

Phases run in plan order: netfilter (one transaction per table and backend, then nft
tables), routes, links (one group delete), files. If an object's backup fails, that
object is not touched. ``CNISCRUB_DEBUG_KILL_AT=<action id>`` makes the process SIGKILL
itself just before backing up that action (used to prove re-runs converge).

>>> from cniscrub.plan.model import Action
>>> [len(g) for g in batches([Action(1, "routes", "route", "k", "t", "r", (), "b")])]
[1]
"""

from __future__ import annotations

import logging
import os
import signal
import time
from collections.abc import Callable, Sequence
from typing import Any

from cniscrub.apply import files_ops, netfilter, netlink_ops
from cniscrub.apply.backup import backup
from cniscrub.apply.journal import Journal
from cniscrub.apply.link_state import LinkState
from cniscrub.errors import BackupError
from cniscrub.inventory.iptables import Runner
from cniscrub.node.rootfs import RootFS
from cniscrub.plan.model import Action, Plan

log = logging.getLogger(__name__)
KILL_ENV = "CNISCRUB_DEBUG_KILL_AT"


def slim(a: Action) -> dict[str, Any]:
    """What a journal needs of an action (the full action is in plan.json)."""
    pos = a.data.get("resource", {}).get("data", {}).get("pos", 0)
    return {"id": a.id, "kind": a.kind, "key": a.key, "target": a.target, "pos": pos}


def batches(actions: Sequence[Action]) -> list[list[Action]]:
    """Group consecutive actions that execute together."""
    out: list[list[Action]] = []
    for a in actions:
        key = _batch_key(a)
        if out and _batch_key(out[-1][0]) == key:
            out[-1].append(a)
        else:
            out.append([a])
    return out


def _batch_key(a: Action) -> tuple[str, ...]:
    if a.kind in ("ipt_rule", "ipt_chain"):
        d = a.data.get("resource", {}).get("data", {})
        return ("ipt", str(d.get("backend")), str(d.get("family")), str(d.get("table")))
    return (a.kind,)


class Executor:
    """Runs one plan against the node, writing the journal."""

    def __init__(
        self,
        fs: RootFS,
        runner: Runner,
        journal: Journal,
        plan: Plan,
        links: LinkState | None = None,
        link_groups: set[int] | None = None,
    ) -> None:
        self.fs, self.runner, self.journal, self.plan = fs, runner, journal, plan
        self.results: list[dict[str, Any]] = []
        self.kill_at = int(os.environ.get(KILL_ENV, "0") or 0)
        names = plan.facts.get("network_name", {}).get("values") or ["cbr0"]
        self.netname = names[0]
        self.links = links or LinkState()  # neighbours/FDB of the links (backup)
        self.link_groups = link_groups or {0}  # link groups in use when planned

    def run(
        self,
        on_result: Callable[[dict[str, Any]], None] | None = None,
        on_start: Callable[[Action], None] | None = None,
    ) -> list[dict[str, Any]]:
        """Execute every batch; ``on_start`` sees each action just before it runs."""
        ordered = sorted(self.plan.actions, key=lambda a: a.id)
        for group in batches(ordered):
            start = time.monotonic()
            events: list[dict[str, Any]] = []
            ready = [a for a in group if self._backup(a, events, on_result)]
            self.journal.record_many(events)  # durable BEFORE anything is touched
            backed_up = time.monotonic()
            if on_start is not None:
                for a in ready:
                    on_start(a)
            if ready:
                self._execute(ready, on_result)
            log.debug(
                "batch %s x%d: backup %.3fs, execute %.3fs",
                _batch_key(group[0]),
                len(group),
                backed_up - start,
                time.monotonic() - backed_up,
            )
        return self.results

    def _backup(
        self,
        a: Action,
        events: list[dict[str, Any]],
        on_result: Callable[[dict[str, Any]], None] | None,
    ) -> bool:
        if a.id == self.kill_at:
            self.journal.record_many(events)
            os.kill(os.getpid(), signal.SIGKILL)
        try:
            payload = backup(self.fs, self.runner, self.journal, a, self.links)
        except BackupError as exc:
            msg = f"backup failed, not touched: {exc}"
            self._result(a, "failed", msg, 0.0, on_result)
            return False
        events.append({"event": "backup", "action": slim(a), "payload": payload})
        return True

    def _execute(
        self, group: list[Action], on_result: Callable[[dict[str, Any]], None] | None
    ) -> None:
        start = time.monotonic()
        errors = self._dispatch(group)
        took = (time.monotonic() - start) / len(group)
        events = []
        for a in group:
            err = errors.get(a.id)
            events.append(
                self._result(
                    a,
                    "failed" if err else "applied",
                    err,
                    took,
                    on_result,
                    record=False,
                )
            )
        self.journal.record_many(events, durable=False)  # results: see record_many

    def _dispatch(self, group: list[Action]) -> dict[int, str | None]:
        kind = group[0].kind
        if kind in ("ipt_rule", "ipt_chain"):
            key = next(iter(netfilter.group_by_table(group)))
            err = netfilter.apply_table(self.runner, key, group)
            return {a.id: err for a in group}
        if kind == "nft_table":
            err = netfilter.delete_nft_tables(self.runner, group)
            return {a.id: err for a in group}
        if kind == "route":
            return netlink_ops.delete_routes(group)
        if kind == "link":
            return netlink_ops.delete_links(group, self.link_groups)
        return {
            a.id: files_ops.remove(
                self.fs, a.key, a.data["resource"]["data"]["type"], self.netname
            )
            for a in group
        }

    def _result(
        self,
        a: Action,
        status: str,
        error: str | None,
        took: float,
        on_result: Callable[[dict[str, Any]], None] | None,
        record: bool = True,
    ) -> dict[str, Any]:
        res = {
            "action": a.id,
            "target": a.target,
            "status": status,
            "error": error,
            "duration": round(took, 6),
        }
        if record:
            self.journal.record({"event": "result", **res})
        self.results.append(res)
        if on_result:
            on_result(res)
        return {"event": "result", **res}
