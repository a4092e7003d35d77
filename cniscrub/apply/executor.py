"""Execute a plan: lock held by the caller, back up each object into the journal before
touching it, run each phase in batches, record every result, continue past failures.

Phases run in plan order: netfilter (one transaction per table and backend, then nft
tables), routes, links (one group delete), files. If an object's backup fails, that
object is not touched. If the journal itself cannot be written (disk full, I/O error),
the run stops: nothing more is touched and every remaining action is ``skipped``
(:attr:`Executor.stopped` says why); what was done so far is fully backed up.
Nothing here knows a CNI: every decision (what to delete, which directories may be
removed) is in the plan. ``CNISCRUB_DEBUG_KILL_AT=<action id>``
makes the process SIGKILL itself just before backing up that action (used to prove
re-runs converge).

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

from cniscrub.apply import files_ops, ipset_ops, netfilter, netlink_ops, rule_ops
from cniscrub.apply.backup import backup
from cniscrub.apply.link_state import LinkState
from cniscrub.apply.result import ActionResult, Outcome, Status, from_error
from cniscrub.errors import BackupError
from cniscrub.journal.writer import Journal, JournalWriteError
from cniscrub.node.rootfs import RootFS
from cniscrub.node.runner import Runner
from cniscrub.plan.model import Action, Plan

log = logging.getLogger(__name__)
KILL_ENV = "CNISCRUB_DEBUG_KILL_AT"
OnResult = Callable[[ActionResult], None]


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
        self.results: list[ActionResult] = []
        self.kill_at = int(os.environ.get(KILL_ENV, "0") or 0)
        self.links = links or LinkState()  # neighbours/FDB of the links (backup)
        self.link_groups = link_groups or {0}  # link groups in use when planned
        self._refs: dict[int, str] = {}  # action id -> journal ref of its backup
        self.stopped: str | None = None  # why the run stopped early (journal failure)

    def run(
        self,
        on_result: OnResult | None = None,
        on_start: Callable[[Action], None] | None = None,
    ) -> list[ActionResult]:
        """Execute every batch; ``on_start`` sees each action just before it runs."""
        ordered = sorted(self.plan.actions, key=lambda a: a.id)
        for group in batches(ordered):
            start = time.monotonic()
            events: list[dict[str, Any]] = []
            ready = [a for a in group if self._backup(a, events, on_result)]
            if ready:
                try:  # durable and read back BEFORE anything is touched
                    refs = self.journal.record_many(events)
                except JournalWriteError as exc:
                    self._stop(str(exc), ready, on_result)
                    continue
                self._refs.update(zip((a.id for a in ready), refs, strict=True))
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

    def _stop(
        self, why: str, actions: list[Action], on_result: OnResult | None
    ) -> None:
        """The journal failed: ``actions`` (and every later one) are not touched."""
        if self.stopped is None:
            self.stopped = f"the journal cannot be written ({why}): the run stopped"
        reason = "not touched: the journal could not record its backup"
        self._report(
            [ActionResult(a.id, a.target, Status.SKIPPED, reason) for a in actions],
            on_result,
        )

    def _backup(
        self, a: Action, events: list[dict[str, Any]], on_result: OnResult | None
    ) -> bool:
        if self.stopped is not None:
            self._stop(self.stopped, [a], on_result)
            return False
        if a.id == self.kill_at:
            self.journal.record_many(events)
            os.kill(os.getpid(), signal.SIGKILL)
        try:
            payload = backup(self.fs, self.runner, self.journal, a, self.links)
        except JournalWriteError as exc:
            self._stop(str(exc), [a], on_result)
            return False
        except BackupError as exc:
            res = ActionResult(
                a.id, a.target, Status.FAILED, f"backup failed, not touched: {exc}"
            )
            self._report([res], on_result)
            return False
        events.append({"event": "backup", "action": slim(a), "payload": payload})
        return True

    def _execute(self, group: list[Action], on_result: OnResult | None) -> None:
        start = time.monotonic()
        outcomes = self._dispatch(group)
        took = round((time.monotonic() - start) / len(group), 6)
        results = [
            ActionResult(
                a.id,
                a.target,
                *outcomes[a.id],
                duration=took,
                backup_ref=self._refs.get(a.id),
            )
            for a in group
        ]
        self._report(results, on_result)

    def _report(self, results: list[ActionResult], on_result: OnResult | None) -> None:
        """Keep, journal and show ``results``. Results are written but not forced to
        disk (see :meth:`Journal.record_many`)."""
        self.results += results
        events = [{"event": "result", **_event(r)} for r in results]
        if self.journal.broken is None:
            try:
                self.journal.record_many(events, durable=False)
            except JournalWriteError as exc:  # the next backup would fail too: stop
                self.stopped = f"the journal cannot be written ({exc}): the run stopped"
        if on_result:
            for r in results:
                on_result(r)

    def _dispatch(self, group: list[Action]) -> dict[int, Outcome]:
        kind = group[0].kind
        if kind in ("ipt_rule", "ipt_chain"):
            key = next(iter(netfilter.group_by_table(group)))
            outcome = from_error(netfilter.apply_table(self.runner, key, group))
            return {a.id: outcome for a in group}
        if kind == "nft_table":
            outcome = from_error(netfilter.delete_nft_tables(self.runner, group))
            return {a.id: outcome for a in group}
        if kind == "ipset":
            return ipset_ops.destroy(group)
        if kind == "route":
            return netlink_ops.delete_routes(group)
        if kind == "ip_rule":
            return rule_ops.delete_rules(group)
        if kind == "link":
            return netlink_ops.delete_links(group, self.link_groups)
        allowed = self.plan.allowed_dirs
        return {
            a.id: files_ops.remove(
                self.fs, a.key, a.data["resource"]["data"]["type"], allowed
            )
            for a in group
        }


def _event(r: ActionResult) -> dict[str, Any]:
    """A result as the journal keeps it (``cniscrub/apply/v1`` result fields)."""
    doc = r.to_json()
    del doc["tag"]
    return doc
