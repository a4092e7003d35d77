"""Inventory and plan for a run, shared by ``plan``, ``verify`` and ``apply``: the
footprint named by the run decides what the inventory reads and how it is matched.
"""

from __future__ import annotations

import json
import os

from cniscrub import footprints
from cniscrub.cli.context import RunContext
from cniscrub.errors import UsageError
from cniscrub.inventory import collect_inventory
from cniscrub.inventory.model import Inventory
from cniscrub.node.rootfs import RootFS
from cniscrub.node.runner import LocalRunner
from cniscrub.plan.model import Plan
from cniscrub.plan.planner import Policy, build_plan


def take_inventory(ctx: RunContext) -> Inventory:
    """The node's inventory in the run's footprint scope (the rule collection the
    CLI already started is taken over)."""
    assert ctx.cni is not None and ctx.root is not None
    scope = footprints.get(ctx.cni).scope
    return collect_inventory(RootFS(ctx.root), LocalRunner(), scope, ctx.early.rules)


def make_plan(ctx: RunContext, inv: Inventory) -> Plan:
    assert ctx.cni is not None
    return build_plan(inv, Policy(cni=ctx.cni, force=ctx.force))


def save_plan(ctx: RunContext, plan: Plan, path: str) -> None:
    """``plan --out``: the plan with the root it was made for (apply's default)."""
    doc = {**plan.to_json(), "root": ctx.root}
    try:
        with open(path, "w", encoding="utf-8") as fh:
            json.dump(doc, fh, indent=1, sort_keys=True)
    except OSError as exc:
        where = os.path.dirname(os.path.abspath(path))
        raise UsageError(
            f"cannot write the plan to {path}: {exc.strerror} (is {where} an existing, "
            "writable directory?)"
        ) from exc
