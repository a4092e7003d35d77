"""Human rendering of plans and apply/restore reports: tagged lines, kubeadm style.

>>> from cniscrub.plan.model import Action
>>> a = Action(1, "netfilter", "ipt_chain", "k", "chain FLANNEL-FWD (filter)",
...            "made by flanneld", ("made by flanneld",), "rules")
>>> action_line("plan", a)
'[plan] Would delete chain FLANNEL-FWD (filter): made by flanneld'
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from cniscrub.cli.output import printable
from cniscrub.plan.model import Action, Plan

if TYPE_CHECKING:
    from cniscrub.apply.result import ActionResult

VERBS = {"plan": "Would delete", "apply": "Deleting", "verify": "Residue:"}


def _safe(text: str) -> str:
    return printable(text)


def action_line(tag: str, a: Action) -> str:
    covers = len(a.data.get("covers", []))
    extra = f"; takes {covers} object(s) with it" if covers else ""
    return _safe(f"[{tag}] {VERBS[tag]} {a.target}: {'; '.join(a.evidence)}{extra}")


def plan_lines(plan: Plan, tag: str = "plan") -> Iterable[str]:
    for b in plan.blockers:
        yield f"[preflight] ✗ {b}"
    for w in plan.warnings:
        yield f"[inventory] note: {_safe(w)}"
    for a in plan.actions:
        yield action_line(tag, a)
    for pod in plan.attached_pods:
        where = pod.get("netns_name") or "netns unknown"
        name = f"pod {pod['pod']} " if pod.get("pod") else ""
        yield (
            f"[{tag}] Pod sandbox {name}{where} (via {pod['veth']}) will lose its "
            "network; "
            "recreate it once the next CNI is up"
        )
    for target, why in plan.left_alone:
        yield _safe(f"[{tag}] Left alone: {target}: {why}")
    for what in plan.unresolved:
        yield _safe(f"[{tag}] ✗ Unresolved: {what}")
    n = len(plan.actions)
    summary = "nothing to do" if not n else f"{n} action(s) pending"
    if plan.unresolved:
        summary += f", {len(plan.unresolved)} unresolved"
    yield f"[{tag}] plan {plan.plan_id}: {summary}"


def result_lines(results: Iterable[ActionResult]) -> Iterable[str]:
    for r in results:
        mark = "✓" if r.ok else "✗"
        msg = f" — {r.reason}" if r.reason else ""
        yield _safe(f"[{r.tag}] {mark} {r.status}: {r.target}{msg}")
