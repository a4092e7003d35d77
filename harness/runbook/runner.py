"""``cniscrub-lab validate``: build a cluster, put the foreign baseline and Flannel with
workload pods on it, run the runbook step by step, and judge every step from snapshots.

Order: cluster → baseline (+ the operator's ``--baseline`` script) → look **B** →
Flannel → workload pods on every node → look **F** → each step, then a look → probe
pods on every node (do new pods get a network?) → teardown (unless ``keep``).
:class:`Progress` receives each phase and step as it happens.
"""

from __future__ import annotations

import ipaddress
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from harness import baseline, flannel_install, matrix
from harness.actions import expect
from harness.actions.waits import pods_ready
from harness.kube import kubectl
from harness.kube_get import get_json
from harness.providers import make_provider
from harness.providers.base import Cluster, ClusterSpec, Provider
from harness.runbook import observe, steps
from harness.runbook.classify import step_effect
from harness.runbook.model import Runbook, Step
from harness.runbook.result import PodOutcome, StepResult, Validation
from harness.snapshot.cluster import IGNORE_LABEL

WORKLOAD = "validate-web"
WORKLOAD_SELECTOR = f"app={WORKLOAD}"


class Progress(Protocol):
    def phase(self, what: str) -> None: ...
    def phase_done(self, what: str, seconds: float) -> None: ...
    def step_started(self, step: Step) -> None: ...
    def step_done(self, result: StepResult) -> None: ...


@dataclass
class Options:
    nodes: int = 3
    flannel_version: str = matrix.DEFAULT_FLANNEL_VERSION
    runtime: str = matrix.DEFAULT_RUNTIME
    baseline: Path | None = None
    provider: str = "sandbox"
    name: str = "validate"
    keep: bool = False


class SetupError(RuntimeError):
    """The validation could not build what it runs the runbook on."""


def validate(runbook: Runbook, options: Options, progress: Progress) -> Validation:
    started = time.perf_counter()
    # a validation that is killed leaves a cluster `cniscrub-lab gc` recognises
    owner = {} if options.keep else {"lifetime_owner": os.getpid()}
    prov = make_provider(options.provider, **owner)
    why = prov.unavailable()
    if why:
        raise SetupError(f"provider {prov.name} cannot run here: {why}")
    v = Validation(runbook, _setup(options, prov))
    prov.delete(options.name)
    world = _build(v, options, prov, progress)
    try:
        _run_steps(v, world, progress)
        probing = "Probing: does a new pod get a network on every node?"
        _timed(v, progress, "probes", probing, lambda: _final_pods(v, world.cluster))
    except Exception as exc:  # keep what was found; the verdict says it is incomplete
        v.error = f"the validation stopped: {type(exc).__name__}: {exc}"
    finally:
        if not options.keep:
            start = time.perf_counter()
            prov.delete(options.name)
            v.timings["teardown"] = time.perf_counter() - start
    v.timings["total"] = time.perf_counter() - started
    return v


@dataclass
class World:
    """The cluster the runbook runs on, and the looks it is judged against."""

    cluster: Cluster
    observer: observe.Observer
    before: observe.Look  # B: the foreign baseline
    installed: observe.Look  # F: Flannel and workload pods up


def _build(
    v: Validation, options: Options, prov: Provider, progress: Progress
) -> World:
    """Cluster, baseline, look B, Flannel and workload, look F; on any failure the
    cluster is removed (unless kept) and SetupError says what failed."""
    manifest = flannel_install.manifest_path(options.flannel_version)
    extra = options.baseline.read_text() if options.baseline else ""
    spec = ClusterSpec(name=options.name, nodes=options.nodes, runtime=options.runtime)
    creating = f"Creating {prov.name} cluster {options.name!r} ({options.nodes} nodes)"
    installing = f"Installing Flannel {options.flannel_version} and workload pods"
    try:
        cluster = _timed(v, progress, "cluster", creating, lambda: prov.create(spec))
        observer = observe.Observer(cluster)
        _timed(
            v,
            progress,
            "baseline",
            "Putting the foreign baseline on every node",
            lambda: baseline.apply(cluster.nodes, extra),
        )
        before = observer.look()
        _timed(
            v,
            progress,
            "flannel",
            installing,
            lambda: _install_flannel(cluster, manifest),
        )
        installed = observer.look()
    except Exception as exc:
        if not options.keep:
            prov.delete(options.name)
        raise SetupError(f"{type(exc).__name__}: {exc}") from exc
    v.cni_objects = observe.owned_counts(before, installed)
    observer.events()  # what happened before the runbook is not its doing
    return World(cluster, observer, before, installed)


def _setup(options: Options, prov: Provider) -> dict[str, Any]:
    return {
        "provider": prov.name,
        "cluster": options.name,
        "nodes": [],
        "flannel_version": options.flannel_version,
        "runtime": options.runtime,
        "baseline": [
            *baseline.DESCRIPTION,
            *(
                [f"the operator's script {options.baseline}"]
                if options.baseline
                else []
            ),
        ],
        "kept": options.keep,
    }


def _timed(
    v: Validation, progress: Progress, key: str, what: str, fn: Callable[[], Any]
) -> Any:
    progress.phase(what)
    start = time.perf_counter()
    value = fn()
    v.timings[key] = time.perf_counter() - start
    progress.phase_done(what, v.timings[key])
    if key == "cluster":
        v.setup["nodes"] = [n.name for n in value.nodes]
    return value


def _install_flannel(cluster: Cluster, manifest: Path) -> None:
    flannel_install.install(cluster, manifest)
    kubectl(cluster, "apply", "-f", "-", input=json.dumps(workload()))
    result = pods_ready(cluster, "default", WORKLOAD_SELECTOR, timeout=120)
    if not result.ok:
        raise SetupError(result.runs[-1].output)


def _outside(ip: str, cidr: str) -> str:
    """A note when a pod got an address outside its node's podCIDR (another network's
    CNI config was picked up)."""
    if not ip or not cidr or ipaddress.ip_address(ip) in ipaddress.ip_network(cidr):
        return ""
    return f"address outside the node's podCIDR {cidr}: another CNI config answered"


def workload() -> dict[str, Any]:
    """A DaemonSet of plain pods on every node (the control plane too), marked as the
    harness's own so snapshots of the API leave it out."""
    labels = {"app": WORKLOAD}
    return {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {
            "name": WORKLOAD,
            "namespace": "default",
            "labels": {**labels, IGNORE_LABEL: "workload"},
        },
        "spec": {
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "terminationGracePeriodSeconds": 1,
                    "tolerations": [{"operator": "Exists"}],
                    "containers": [
                        {
                            "name": "web",
                            "image": "busybox:1.36",
                            "command": ["sleep", "infinity"],
                        }
                    ],
                },
            },
        },
    }


def _run_steps(v: Validation, world: World, progress: Progress) -> None:
    before, installed = world.before, world.installed
    current = observe.deltas(before, installed, installed)
    ctx = steps.Context(world.cluster, v.runbook.path.parent, current=lambda: current)
    origin = time.perf_counter()
    stopped = False
    for step in v.runbook.steps:
        result = StepResult(step, started=time.perf_counter() - origin)
        v.steps.append(result)
        if stopped:
            result.status = "skipped"
            progress.step_done(result)
            continue
        progress.step_started(step)
        outcome = steps.run(step, ctx)
        result.seconds = time.perf_counter() - origin - result.started
        result.executions, result.notes, result.expectations = (
            outcome.result.runs,
            outcome.notes,
            outcome.expectations,
        )
        if step.kind != "expect":
            now = observe.deltas(before, installed, world.observer.look())
            result.effects = {s: step_effect(current[s], now[s]) for s in now}
            current = now
        result.events = world.observer.events()
        result.status = _status(result)
        progress.step_done(result)
        stopped = result.status == "failed" and step.on_failure == "stop"
    v.final = current


def _status(result: StepResult) -> str:
    failed = any(not r.ok for r in result.executions) or any(
        not x.held for x in result.expectations
    )
    if failed:
        return "failed"
    tolerated = any(r.note.startswith("exit ") for r in result.executions)
    return "tolerated" if tolerated else "ok"


def _final_pods(v: Validation, cluster: Cluster) -> None:
    cidrs = {
        n["metadata"]["name"]: n["spec"].get("podCIDR", "")
        for n in get_json(cluster, "get", "nodes")["items"]
    }
    for probe in expect.probe_pods(cluster, "all"):
        message = probe.message or _outside(probe.ip, cidrs.get(probe.node, ""))
        if message and probe.ip:
            listing = cluster.node(probe.node).exec(
                ["ls", "/etc/cni/net.d"], check=False
            )
            message += (
                f" (/etc/cni/net.d: {', '.join(listing.stdout.split()) or 'empty'})"
            )
        v.pods.append(PodOutcome(probe.pod, probe.node, probe.phase, probe.ip, message))
    for pod in observe.workload_pods(cluster, WORKLOAD_SELECTOR):
        status = pod.get("status") or {}
        v.pods.append(
            PodOutcome(
                pod["metadata"]["name"],
                pod["spec"].get("nodeName", ""),
                status.get("phase", "?"),
                status.get("podIP", ""),
                "workload pod (started before the runbook)",
            )
        )
