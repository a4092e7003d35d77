"""Expectations about node state, answered through testinfra (:mod:`harness.checks`) and
the node snapshot. Each check is ``check(ctx, arg)`` and raises
:class:`~harness.actions.base.ExpectationFailed` naming what it saw.

``no_residue``       ``cniscrub verify`` exits 0 on every node (:func:`.expect.no_residue`)
                     *and* no object of the
                     CNI is left in the node snapshot (:mod:`.residue`)
``residue``          the opposite: the node is still dirty (verify exits 2, and objects
                     of the CNI are there)
``baseline_intact``  every foreign object the baseline put on the node is still there,
                     unchanged
``files`` / ``links`` / ``chains``  ``present``/``absent`` lists (chains also ``empty``:
                     flushed but not deleted), per selected node
``same_address``     two links claim the same IPv4 address (``cni0`` and ``kube-bridge``
                     both holding the node's ``.1`` gateway)
``first_cni_conf``   the file the runtime loads: the lexically first ``*.conf``,
                     ``*.conflist`` or ``*.json`` (fact: harness-anchors.md §5)
``unchanged_since``  the nodes' objects equal a labelled snapshot's (the cleaner's own
                     lock file aside)
``objects``          snapshot object names matching each ``present`` regex exist, none
                     matches an ``absent`` one (``route .* proto 17``)

>>> split_chain("nat FLANNEL-POSTRTG"), split_chain("FLANNEL-FWD")
(('nat', 'FLANNEL-POSTRTG'), ('filter', 'FLANNEL-FWD'))
"""

from __future__ import annotations

import re
from typing import Any

from harness import checks
from harness.actions import expect as probes
from harness.actions.cleaner import without_own_files
from harness.actions.context import Context, ExpectationFailed, as_mapping
from harness.actions.residue import residue
from harness.providers.base import Node
from harness.snapshot.diff import diff as diff_objects
from harness.snapshot.state import snapshot_node

CONF_DIR = "/etc/cni/net.d"
CONF_SUFFIXES = (".conf", ".conflist", ".json")


def _nodes(ctx: Context, spec: dict[str, Any]) -> list[Node]:
    stopped = set(ctx.found.get("stopped", []))
    return [n for n in ctx.nodes(spec.get("nodes", "all")) if n.name not in stopped]


def _fail(check: str, problems: list[str]) -> None:
    if problems:
        raise ExpectationFailed(check, "\n".join(problems))


def no_residue(ctx: Context, arg: Any) -> None:
    spec = as_mapping(arg, "cni")
    problems = []
    for node in _nodes(ctx, spec):
        verify = ctx.cluster.run_cleaner(node, ["verify", "--cni", spec["cni"]])
        left = residue(spec["cni"], snapshot_node(node).objects)
        if verify.rc != 0:
            tail = "\n    ".join(verify.stdout.strip().splitlines()[-8:])
            problems.append(
                f"{node.name}: cniscrub verify exit {verify.rc}\n    {tail}"
            )
        if left:
            problems.append(
                f"{node.name}: {spec['cni']} objects left: " + ", ".join(left)
            )
    _fail("no_residue", problems)


def dirty(ctx: Context, arg: Any) -> None:
    spec = as_mapping(arg, "cni")
    problems = []
    nodes = _nodes(ctx, spec)
    verified = {
        r.where: r
        for r in probes.no_residue(
            ctx.cluster, spec["cni"], [n.name for n in nodes]
        ).runs
    }
    for node in nodes:
        verify = verified[node.name]
        left = residue(spec["cni"], snapshot_node(node).objects)
        if verify.rc != 2 or not left:
            problems.append(
                f"{node.name}: expected {spec['cni']} residue, verify exit {verify.rc}, "
                f"objects: {', '.join(left) or 'none'}"
            )
    _fail("residue", problems)


def baseline_losses(ctx: Context, node: Node) -> str:
    """The baseline objects ``node`` lost or that changed ('' when all are intact)."""
    wanted = ctx.baseline.get(node.name) or {}
    if not wanted:
        return ""
    now = snapshot_node(node).objects
    change = diff_objects(wanted, {k: v for k, v in now.items() if k in wanted})
    return change.text()


def baseline_intact(ctx: Context, arg: Any) -> None:
    if not ctx.baseline:
        raise ExpectationFailed(
            "baseline_intact", "this run put no baseline on its nodes"
        )
    problems = []
    for node in _nodes(ctx, as_mapping(arg, "enabled")):
        lost = baseline_losses(ctx, node)
        if lost:
            problems.append(
                f"{node.name}:\n" + "\n".join(f"  {x}" for x in lost.splitlines())
            )
    _fail("baseline_intact", problems)


def _presence(ctx: Context, arg: Any, check: str, test: Any, empty: Any = None) -> None:
    spec = ctx.substitute(as_mapping(arg, "present"))
    problems = []
    for node in _nodes(ctx, spec):
        for item in spec.get("present", []):
            if not test(node, item):
                problems.append(f"{node.name}: {item} is missing")
        for item in spec.get("absent", []):
            if test(node, item):
                problems.append(f"{node.name}: {item} is still there")
        for item in spec.get("empty", []):
            rules = empty(node, item)
            if rules is None:
                problems.append(f"{node.name}: chain {item} does not exist")
            elif rules:
                problems.append(f"{node.name}: chain {item} holds {rules}")
    _fail(check, problems)


def split_chain(text: str) -> tuple[str, str]:
    table, _, chain = text.rpartition(" ")
    return (table or "filter", chain)


def files(ctx: Context, arg: Any) -> None:
    _presence(ctx, arg, "files", checks.exists)


def links(ctx: Context, arg: Any) -> None:
    _presence(ctx, arg, "links", lambda n, name: checks.link(n, name) is not None)


def chains(ctx: Context, arg: Any) -> None:
    def exists(node: Node, item: str) -> bool:
        return checks.chain_exists(node, *split_chain(item))

    def rules(node: Node, item: str) -> list[str] | None:
        found = checks.chain_rules(node, *split_chain(item))
        return None if found is None else [r for r in found if r.startswith("-A")]

    _presence(ctx, arg, "chains", exists, rules)


def same_address(ctx: Context, arg: Any) -> None:
    spec = as_mapping(arg, "links")
    problems = []
    for node in _nodes(ctx, spec):
        held = {name: _ipv4(checks.addresses(node, name)) for name in spec["links"]}
        common = set.intersection(*held.values()) if held else set()
        if not common:
            problems.append(f"{node.name}: no address shared by {held}")
    _fail("same_address", problems)


def _ipv4(addresses: list[str]) -> set[str]:
    return {a for a in addresses if ":" not in a}


def first_cni_conf(ctx: Context, arg: Any) -> None:
    spec = as_mapping(arg, "file")
    problems = []
    for node in _nodes(ctx, spec):
        listing = (
            node.host.file(CONF_DIR).listdir() if checks.exists(node, CONF_DIR) else []
        )
        confs = sorted(f for f in listing if f.endswith(CONF_SUFFIXES))
        first = confs[0] if confs else None
        if first != spec["file"]:
            problems.append(f"{node.name}: the runtime loads {first} (of {confs})")
    _fail("first_cni_conf", problems)


def unchanged_since(ctx: Context, arg: Any) -> None:
    label = str(arg)
    if label not in ctx.snapshots:
        raise ExpectationFailed("unchanged_since", f"no snapshot labelled {label!r}")
    before = ctx.snapshots[label]
    problems = []
    for node in _nodes(ctx, {}):
        if node.name in before.nodes:
            change = diff_objects(
                without_own_files(before.nodes[node.name].objects),
                without_own_files(snapshot_node(node).objects),
            )
            if change:
                problems.append(f"{node.name}:\n" + change.text())
    _fail("unchanged_since", problems)


def objects(ctx: Context, arg: Any) -> None:
    spec = ctx.substitute(dict(arg))
    problems = []
    for node in _nodes(ctx, spec):
        names = list(snapshot_node(node).objects)
        for pattern in spec.get("present", []):
            if not any(re.search(pattern, n) for n in names):
                problems.append(f"{node.name}: no object matches {pattern!r}")
        for pattern in spec.get("absent", []):
            hits = [n for n in names if re.search(pattern, n)]
            if hits:
                problems.append(f"{node.name}: {pattern!r} matches {', '.join(hits)}")
    _fail("objects", problems)


CHECKS = {
    "no_residue": no_residue,
    "residue": dirty,
    "baseline_intact": baseline_intact,
    "files": files,
    "links": links,
    "chains": chains,
    "same_address": same_address,
    "first_cni_conf": first_cni_conf,
    "unchanged_since": unchanged_since,
    "objects": objects,
}
