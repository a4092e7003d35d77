"""The ``expect`` step: a mapping of checks to their arguments, all of which must hold.

Node-state checks live in :mod:`.expect_node`; the cluster-side ones here (fresh probe
pods and their traffic come from :mod:`.expect`):

``sandbox_error``   the kubelet's FailedCreatePodSandBox event for a pod on the selected
                    nodes: ``contains`` a text, or the reference ``wording`` for the run's
                    runtime and the manifest's CNI plugin (:mod:`.wording`)
``node_ready``      the nodes' Ready condition has ``status`` (and its message
                    ``contains`` a text), waited for (bounded)
``pods_running``    ``true``: a new probe pod starts on every node; ``{prefix}``: the
                    scenario's workload pods named ``prefix-*`` run with IPs
``pod_network``     each running workload pod's address lies in its node's podCIDR (or
                    ``cidr``) and its host-side veth hangs on ``bridge``
``cross_node_traffic``  ``true``: a new probe pod reaches one on another node;
                    ``{prefix, via}``: a workload pod pings one on another node (``via``:
                    a link whose tx counter must grow on the sender's node)
``api_objects``     API objects ``present``/``absent``/``terminating``
                    (``namespace kube-flannel``, ``clusterrole flannel``)
``no_api_residue``  none of the CNI's manifest objects is left in the API, and no Node
                    carries its annotations (:mod:`.residue`)
``cleaner_report``  the last ``cniscrub --json`` document of each node: ``planned``
                    actions, ``results`` and ``journal`` (null: none written)

Checks that wait (``node_ready``, ``sandbox_error``, ``pods_running``) take a
``timeout`` (default 60 s).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import yaml

from harness import checks
from harness.actions import expect as probes
from harness.actions.context import Action, Context, ExpectationFailed, as_mapping
from harness.actions.expect_node import CHECKS as NODE_CHECKS
from harness.actions.kubectl import workload_pods
from harness.actions.residue import residue
from harness.actions.wording import manifest_cni_plugin, sandbox_error_pattern
from harness.kube_get import get_json
from harness.wait import WaitTimeout, until

Check = Callable[[Context, Any], None]
DEFAULT_WAIT = 60.0


def _eventually(check: str, fn: Callable[[], str], timeout: float) -> None:
    """Wait until ``fn`` reports no problem ('' ); fail with its last report."""
    last = {"problem": ""}

    def ok() -> bool:
        last["problem"] = fn()
        return not last["problem"]

    try:
        until(ok, timeout=timeout, interval=0.3, what=check)
    except WaitTimeout as exc:
        raise ExpectationFailed(check, last["problem"] or str(exc)) from None


def _names(ctx: Context, spec: dict[str, Any]) -> set[str]:
    return {n.name for n in ctx.nodes(spec.get("nodes", "all"))}


def sandbox_error(ctx: Context, arg: Any) -> None:
    spec = as_mapping(arg, "contains")
    nodes = _names(ctx, spec)
    if spec.get("wording"):
        plugin = manifest_cni_plugin(ctx.path(ctx.values()["flannel_manifest"]))
        runtime = ctx.values().get("runtime", "containerd-1.7")
        pattern = sandbox_error_pattern(runtime, plugin)
    else:
        pattern = f".*{re.escape(spec['contains'])}.*"

    def problem() -> str:
        pods = {
            p["metadata"]["name"]
            for p in workload_pods(ctx)
            if p["spec"].get("nodeName") in nodes
        }
        events = get_json(
            ctx.cluster,
            "get",
            "events",
            "-n",
            "default",
            "--field-selector",
            "reason=FailedCreatePodSandBox",
        )["items"]
        seen = [
            str(e["message"]) for e in events if e["involvedObject"]["name"] in pods
        ]
        if any(re.fullmatch(pattern, m, re.S) for m in seen):
            ctx.record(
                "sandbox_error", next(m for m in seen if re.fullmatch(pattern, m, re.S))
            )
            return ""
        return f"no event on {sorted(pods)} matches {pattern!r}; seen: {seen or 'none'}"

    _eventually("sandbox_error", problem, float(spec.get("timeout", DEFAULT_WAIT)))


def node_ready(ctx: Context, arg: Any) -> None:
    spec = as_mapping(arg, "status")
    nodes, wanted = _names(ctx, spec), str(spec["status"])

    def problem() -> str:
        bad = []
        for obj in get_json(ctx.cluster, "get", "nodes")["items"]:
            if obj["metadata"]["name"] not in nodes:
                continue
            conditions = obj["status"].get("conditions", [])
            ready: dict[str, Any] = next(
                (c for c in conditions if c["type"] == "Ready"),
                {},
            )
            status, message = ready.get("status"), ready.get("message", "")
            if status != wanted or spec.get("contains", "") not in message:
                bad.append(f"{obj['metadata']['name']}: Ready={status} ({message})")
        return "; ".join(bad)

    _eventually("node_ready", problem, float(spec.get("timeout", DEFAULT_WAIT)))


def _running(ctx: Context, prefix: str | None) -> list[dict[str, Any]]:
    return [
        p
        for p in workload_pods(ctx)
        if prefix is None or p["metadata"]["name"].startswith(f"{prefix}-")
    ]


def pods_running(ctx: Context, arg: Any) -> None:
    if arg is True:
        result, found = probes.pods_running(ctx.cluster, DEFAULT_WAIT)
        if not result.ok:
            detail = "; ".join(p.as_text() for p in found if not p.running)
            raise ExpectationFailed("pods_running", detail or result.runs[-1].output)
        return
    spec = as_mapping(arg, "prefix")

    def problem() -> str:
        pods = _running(ctx, spec.get("prefix"))
        bad = [
            f"{p['metadata']['name']} on {p['spec'].get('nodeName')}: "
            f"{p['status'].get('phase')} ip={p['status'].get('podIP')}"
            for p in pods
            if p["status"].get("phase") != "Running" or not p["status"].get("podIP")
        ]
        return "; ".join(bad) if pods else "no workload pods"

    _eventually("pods_running", problem, float(spec.get("timeout", DEFAULT_WAIT)))


def pod_network(ctx: Context, arg: Any) -> None:
    import ipaddress

    spec = as_mapping(arg, "bridge")
    cidrs = {
        n["metadata"]["name"]: n["spec"].get("podCIDR")
        for n in get_json(ctx.cluster, "get", "nodes")["items"]
    }
    problems = []
    for pod in _running(ctx, spec.get("prefix")):
        name, node_name = pod["metadata"]["name"], pod["spec"]["nodeName"]
        ip = pod["status"].get("podIP")
        cidr = spec.get("cidr") or cidrs[node_name]
        if not ip or ipaddress.ip_address(ip) not in ipaddress.ip_network(cidr):
            problems.append(f"{name} on {node_name}: ip {ip} outside {cidr}")
            continue
        node = ctx.node(node_name)
        netns = checks.pod_netns(node, ip)
        peer = node.exec(["ip", "-n", netns, "-j", "link", "show", "eth0"]).stdout
        index = json.loads(peer)[0].get("link_index")
        veths = json.loads(node.exec(["ip", "-j", "link", "show"]).stdout)
        master = next((v.get("master") for v in veths if v["ifindex"] == index), None)
        if master != spec["bridge"]:
            problems.append(f"{name}: its veth hangs on {master}, not {spec['bridge']}")
    if problems:
        raise ExpectationFailed("pod_network", "\n".join(problems))


def _tx(node: Any, link: str) -> int:
    rows = json.loads(node.exec(["ip", "-s", "-j", "link", "show", link]).stdout)
    return int(rows[0]["stats64"]["tx"]["packets"])


def cross_node_traffic(ctx: Context, arg: Any) -> None:
    if arg is True:
        result = probes.cross_node_traffic(ctx.cluster, DEFAULT_WAIT)
        if not result.ok:
            raise ExpectationFailed("cross_node_traffic", result.runs[-1].output)
        return
    spec = as_mapping(arg, "via")
    by_node: dict[str, dict[str, Any]] = {}
    for p in _running(ctx, spec.get("prefix")):
        if p["status"].get("podIP") and p["status"].get("phase") == "Running":
            by_node.setdefault(p["spec"]["nodeName"], p)
    if len(by_node) < 2:
        raise ExpectationFailed(
            "cross_node_traffic",
            f"running pods on {sorted(by_node) or 'no node'}: need two",
        )
    (src_node, src), (_, dst) = sorted(by_node.items())[:2]
    node = ctx.node(src_node)
    via = spec.get("via")
    before = _tx(node, via) if via else 0
    try:
        checks.ping_from_pod(node, src["status"]["podIP"], dst["status"]["podIP"], 3)
    except Exception as exc:  # the ping's own error says what failed
        raise ExpectationFailed("cross_node_traffic", str(exc)) from None
    if via and _tx(node, via) - before < 3:
        raise ExpectationFailed(
            "cross_node_traffic", f"the packets did not leave via {via}"
        )


def api_objects(ctx: Context, arg: Any) -> None:
    from harness.snapshot.cluster import collect

    spec = ctx.substitute(arg)
    present = collect(ctx.cluster)
    problems = [f"{o} is missing" for o in spec.get("present", []) if o not in present]
    problems += [f"{o} is still there" for o in spec.get("absent", []) if o in present]
    for obj in spec.get("terminating", []):
        kind, _, name = obj.partition(" ")
        item = get_json(ctx.cluster, "get", kind, name.split("/")[-1], *_ns(name))
        if not item["metadata"].get("deletionTimestamp"):
            problems.append(f"{obj} is not terminating")
    if problems:
        raise ExpectationFailed("api_objects", "\n".join(problems))


def no_api_residue(ctx: Context, arg: Any) -> None:
    """Waited for (bounded): a deleted namespace goes once the namespace controller
    has emptied it."""
    from harness.actions.install import CNIS
    from harness.actions.kubectl import manifest_documents
    from harness.snapshot.cluster import collect

    cni = CNIS[str(arg)]
    manifest = ctx.path(ctx.values()[cni.manifest_param])
    objects = []
    for text in manifest_documents(manifest.read_text()):
        meta = yaml.safe_load(text)["metadata"]
        where = f"{meta['namespace']}/" if meta.get("namespace") else ""
        objects.append(f"{yaml.safe_load(text)['kind'].lower()} {where}{meta['name']}")

    def problem() -> str:
        present = collect(ctx.cluster)
        left = [o for o in objects if o in present] + residue(cni.name, present)
        return "left in the API: " + ", ".join(left) if left else ""

    _eventually("no_api_residue", problem, DEFAULT_WAIT)


def _ns(name: str) -> list[str]:
    return ["-n", name.split("/")[0]] if "/" in name else []


def cleaner_report(ctx: Context, arg: Any) -> None:
    spec = dict(arg)
    problems = []
    runs = ctx.found.get("cniscrub", {})
    for node in ctx.nodes(spec.get("nodes", "all")):
        doc = (runs.get(node.name) or {}).get("json")
        if doc is None:
            problems.append(f"{node.name}: no cniscrub --json document recorded")
            continue
        plan = doc.get("plan", doc)
        seen = {
            "planned": len(plan.get("actions", [])),
            "results": len(doc.get("results", [])),
            "journal": doc.get("journal"),
        }
        for key in ("planned", "results", "journal"):
            if key in spec and seen[key] != spec[key]:
                problems.append(
                    f"{node.name}: {key} = {seen[key]!r}, wanted {spec[key]!r}"
                )
    if problems:
        raise ExpectationFailed("cleaner_report", "\n".join(problems))


CHECKS: dict[str, Check] = {
    **NODE_CHECKS,
    "sandbox_error": sandbox_error,
    "node_ready": node_ready,
    "pods_running": pods_running,
    "pod_network": pod_network,
    "cross_node_traffic": cross_node_traffic,
    "api_objects": api_objects,
    "no_api_residue": no_api_residue,
    "cleaner_report": cleaner_report,
}


def run_expect(ctx: Context, args: Any) -> None:
    """Every check of the mapping, in order; the first that fails stops the step."""
    for name, arg in dict(args).items():
        if name not in CHECKS:
            raise KeyError(
                f"unknown check {name!r} (known: {', '.join(sorted(CHECKS))})"
            )
        CHECKS[name](ctx, arg)


EXPECT = Action("expect", "expect", "checks that must hold now", run_expect)
