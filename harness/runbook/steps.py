"""Run one runbook step on the cluster with the shared actions (:mod:`harness.actions`):
each kind maps to its action, manifest references become pinned fixtures, shell steps
run in each node's operator shell (:mod:`.nodeshell`), and ``expect`` steps turn into
:class:`~harness.runbook.result.Expectation` records.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from harness.actions import cleaner, expect, install, kubectl, nodes, waits
from harness.actions.base import ActionError, ActionResult, Run, on_nodes, select
from harness.providers.base import Cluster, Node
from harness.runbook import manifests, nodeshell
from harness.runbook.classify import Delta
from harness.runbook.model import Step
from harness.runbook.result import Expectation

DEFAULT_TIMEOUT = 120.0
_URL = re.compile(r"https?://[^\s'\"|;&)]+")


@dataclass
class Context:
    """What steps share: the cluster, the runbook's folder (relative manifests), the
    CNI the validation installed, and each node's operator shell state."""

    cluster: Cluster
    base: Path
    cni: str = "flannel"
    shells: dict[str, str] = field(default_factory=dict)
    current: Callable[[], dict[str, Delta]] = dict  # the deltas as of the last look


@dataclass
class Outcome:
    result: ActionResult
    notes: list[str] = field(default_factory=list)
    expectations: list[Expectation] = field(default_factory=list)


def run(step: Step, ctx: Context) -> Outcome:
    try:
        return RUNNERS[step.kind](step, ctx)
    except (ActionError, manifests.ManifestUnavailable) as exc:
        return Outcome(ActionResult([Run("cluster", 1, "", str(exc), 0.0)]))


def _timeout(step: Step) -> float:
    return step.timeout or DEFAULT_TIMEOUT


def _kubectl(step: Step, ctx: Context) -> Outcome:
    if "script" in step.params:
        script, notes = map_urls_in_text(step.params["script"], ctx.base)
        return Outcome(
            kubectl.kubectl_script(ctx.cluster, script, timeout=_timeout(step)), notes
        )
    args, notes = map_manifest_args(step.params["args"], ctx.base)
    result = kubectl.kubectl(
        ctx.cluster,
        args,
        tolerate_failure=step.params.get("tolerate_failure", False),
        timeout=_timeout(step),
    )
    return Outcome(result, notes)


def map_manifest_args(args: list[str], base: Path) -> tuple[list[str], list[str]]:
    """``-f``/``--filename`` values resolved to fixtures or local files (a URL or a
    name that cannot be resolved raises ManifestUnavailable)."""
    out, notes = [], []
    take = False
    for arg in args:
        if take or arg.startswith("--filename="):
            ref = arg.split("=", 1)[1] if arg.startswith("--filename=") else arg
            if ref != "-":
                path = manifests.resolve(ref, base)
                notes += [d for d in [manifests.describe(ref, path)] if d]
                arg = (
                    f"--filename={path}" if arg.startswith("--filename=") else str(path)
                )
        take = arg in ("-f", "--filename")
        out.append(arg)
    return out, notes


def map_urls_in_text(text: str, base: Path) -> tuple[str, list[str]]:
    """Known manifest URLs in a script replaced by their fixtures; others kept (they
    fail to download, as they would without network)."""
    notes = []
    for url in sorted(set(_URL.findall(text))):
        try:
            path = manifests.resolve(url, base)
        except manifests.ManifestUnavailable as exc:
            notes.append(str(exc))
            continue
        text = text.replace(url, str(path))
        notes.append(manifests.describe(url, path))
    return text, notes


def _shell(step: Step, ctx: Context) -> Outcome:
    script, notes = map_urls_in_text(step.params["script"], ctx.base)

    def one(node: Node) -> Run:
        wrapped = nodeshell.wrap(script, ctx.shells.get(node.name, ""))
        r = nodes.run_on(node, ["bash", "-c", wrapped], _timeout(step))
        r.stdout, state = nodeshell.split(r.stdout)
        if state:
            ctx.shells[node.name] = state
        if nodeshell.SANDBOX_NOTE in r.stderr:
            r.note = "no systemd in sandbox nodes: kubelet and runtime kept running"
        return r

    return Outcome(ActionResult(on_nodes(select(ctx.cluster, step.nodes), one)), notes)


def _cniscrub(step: Step, ctx: Context) -> Outcome:
    args = step.params["args"]
    if args and args[0] == "cluster":  # a cluster-wide command: once, via the API
        return Outcome(
            cleaner.cniscrub_cluster(ctx.cluster, args, step.timeout or 600.0)
        )
    return Outcome(
        cleaner.cniscrub(ctx.cluster, step.params["args"], step.nodes, _timeout(step))
    )


def _reboot(step: Step, ctx: Context) -> Outcome:
    chosen = select(ctx.cluster, step.nodes)
    for node in chosen:  # the operator's shell on that node died with it
        ctx.shells.pop(node.name, None)
    result = nodes.reboot(
        ctx.cluster, step.nodes, step.params["mode"], timeout=step.timeout or 90.0
    )
    return Outcome(result)


def _install(step: Step, ctx: Context) -> Outcome:
    ref = step.params["manifest"]
    path = manifests.resolve(ref, ctx.base)
    notes = [d for d in [manifests.describe(ref, path)] if d]
    return Outcome(
        install.install(
            ctx.cluster, path, wait=step.params["wait"], timeout=_timeout(step)
        ),
        notes,
    )


def _wait(step: Step, ctx: Context) -> Outcome:
    p, t = step.params, _timeout(step)
    if "seconds" in p:
        return Outcome(waits.seconds(ctx.cluster, float(p["seconds"])))
    if "nodes_ready" in p:
        return Outcome(waits.nodes_ready(ctx.cluster, t))
    kind = "pods_gone" if "pods_gone" in p else "pods_ready"
    sel = p[kind]
    fn = waits.pods_gone if kind == "pods_gone" else waits.pods_ready
    return Outcome(fn(ctx.cluster, sel["namespace"], sel.get("selector"), t))


def _expect(step: Step, ctx: Context) -> Outcome:
    p, out = step.params, Outcome(ActionResult())
    if "no_residue" in p:
        out.expectations.append(_no_residue(p["no_residue"], ctx, out.result))
    if p.get("pods_running"):
        result, probes = expect.pods_running(ctx.cluster, step.timeout or 30.0)
        out.result.runs += result.runs
        detail = "; ".join(pr.as_text() for pr in probes if not pr.running)
        out.expectations.append(
            Expectation("new pods Running on every node", result.ok, detail)
        )
    if p.get("cross_node_traffic"):
        result = expect.cross_node_traffic(ctx.cluster, step.timeout or 30.0)
        out.result.runs += result.runs
        out.expectations.append(
            Expectation(
                "pod traffic across nodes", result.ok, result.runs[-1].output.strip()
            )
        )
    return out


def _no_residue(cni: str, ctx: Context, into: ActionResult) -> Expectation:
    what = f"no {cni} residue"
    if cni == ctx.cni:  # judged from the snapshots, not by the cleaner itself
        left = {s: d.left for s, d in ctx.current().items() if d.left}
        detail = "; ".join(f"{s}: {', '.join(items)}" for s, items in left.items())
        return Expectation(what, not left, detail or "nothing of it left (snapshots)")
    result = expect.no_residue(ctx.cluster, cni)
    into.runs += result.runs
    dirty = [r.where for r in result.runs if not r.ok]
    return Expectation(
        what,
        not dirty,
        f"cniscrub verify --cni {cni}: residue on {', '.join(dirty)}"
        if dirty
        else f"cniscrub verify --cni {cni}: clean",
    )


RUNNERS: dict[str, Callable[[Step, Context], Outcome]] = {
    "kubectl": _kubectl,
    "shell": _shell,
    "cniscrub": _cniscrub,
    "reboot": _reboot,
    "install": _install,
    "wait": _wait,
    "expect": _expect,
}
