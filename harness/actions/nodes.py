"""Node actions: a script run as root inside nodes (in parallel), reboots (all at once,
or rolling: each node seen by the API again before the next goes down), power off and
on, and signals to a process by name.

Scenario steps: ``shell``, ``reboot``, ``stop``, ``start``, ``kill``. After a reboot
or power-on the node's boot services run again: the run's ``ctx.boot_script`` (the
foreign baseline's kernel state: what netfilter-persistent, dockerd, kube-proxy and
the network configuration recreate on a real node). Files survive a reboot, kernel
state does not (fact: harness-anchors.md §8 "Reboot simulation"; ``Node.reboot``).

>>> signal_number("KILL"), signal_number("TERM"), signal_number(9)
(9, 15, 9)
"""

from __future__ import annotations

import signal
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from functools import partial
from typing import Any

from harness import checks
from harness.actions.base import (
    ActionResult,
    NodeSelector,
    Run,
    on_nodes,
    select,
    timed,
)
from harness.actions.context import Action, Context, as_mapping, require
from harness.kube_get import get_json
from harness.providers.base import Cluster, CommandError, Node, NodeNotRunning
from harness.wait import WaitTimeout, until


def run_on(node: Node, argv: Sequence[str], timeout: float, note: str = "") -> Run:
    """``argv`` inside ``node``; a timeout or a powered-off node is a failed run."""

    def call() -> tuple[int, str, str]:
        try:
            r = node.exec(argv, check=False, timeout=timeout)
        except CommandError as exc:  # timed out
            r = exc.result
            return 124, r.stdout, f"{r.stderr}\n{exc}".strip()
        except NodeNotRunning as exc:
            return 125, "", str(exc)
        return r.rc, r.stdout, r.stderr

    return timed(node.name, call, note)


def shell(
    cluster: Cluster, script: str, nodes: NodeSelector = "all", timeout: float = 120.0
) -> ActionResult:
    """``bash -c SCRIPT`` as root in every selected node at once."""
    chosen = select(cluster, nodes)
    return ActionResult(
        on_nodes(chosen, lambda n: run_on(n, ["bash", "-c", script], timeout))
    )


def reboot(
    cluster: Cluster,
    nodes: NodeSelector = "all",
    mode: str = "all-at-once",
    timeout: float = 90.0,
) -> ActionResult:
    """Reboot the selected nodes; return once each node's kubelet has posted its
    status again (it does after noticing a reboot), a rolling group at a time."""
    chosen = select(cluster, nodes)
    groups = [[n] for n in chosen] if mode == "rolling" else [chosen]
    runs: list[Run] = []
    for group in groups:
        since = _now()
        runs += [timed(n.name, partial(_reboot, n), f"reboot ({mode})") for n in group]
        start = time.perf_counter()
        try:
            until(
                partial(_heard_from, cluster, group, since),
                timeout=timeout,
                interval=0.2,
                what=f"the kubelet of {', '.join(n.name for n in group)} after the reboot",
            )
        except WaitTimeout as exc:
            runs[-1].rc, runs[-1].stderr = 1, str(exc)
            break
        finally:
            runs[-1].seconds += time.perf_counter() - start
    return ActionResult(runs)


def stop(cluster: Cluster, nodes: NodeSelector) -> ActionResult:
    """Power the selected nodes off (disk kept; the API marks them NotReady after the
    node-monitor grace period)."""
    return ActionResult(
        [
            timed(n.name, partial(_power, n, on=False), "power off")
            for n in select(cluster, nodes)
        ]
    )


def start(cluster: Cluster, nodes: NodeSelector, timeout: float = 90.0) -> ActionResult:
    """Power the selected nodes on; return once each kubelet posted its status."""
    chosen, since = select(cluster, nodes), _now()
    runs = [timed(n.name, partial(_power, n, on=True), "power on") for n in chosen]
    try:
        until(
            partial(_heard_from, cluster, chosen, since),
            timeout=timeout,
            interval=0.2,
            what=f"the kubelet of {', '.join(n.name for n in chosen)} after power-on",
        )
    except WaitTimeout as exc:
        runs[-1].rc, runs[-1].stderr = 1, str(exc)
    return ActionResult(runs)


def _power(node: Node, on: bool) -> tuple[int, str, str]:
    node.start() if on else node.stop()
    return 0, "", ""


def _reboot(node: Node) -> tuple[int, str, str]:
    node.reboot()
    return 0, "", ""


def _now() -> str:
    """Now, as the API writes heartbeat times (RFC 3339, second precision, UTC)."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _heard_from(cluster: Cluster, nodes: list[Node], since: str) -> bool:
    names = {n.name for n in nodes}
    fresh = set()
    for obj in get_json(cluster, "get", "nodes")["items"]:
        for c in obj["status"].get("conditions") or []:
            if c["type"] == "Ready" and c.get("lastHeartbeatTime", "") >= since:
                fresh.add(obj["metadata"]["name"])
    return names <= fresh


# -- scenario steps ---------------------------------------------------------------


def boot(ctx: Context, node: Node) -> None:
    """What a real node's boot services put back (nothing without a baseline)."""
    if ctx.boot_script:
        node.exec(["sh", "-c", ctx.boot_script], timeout=60)


def _selected(ctx: Context, args: Any) -> list[Node]:
    return ctx.nodes(as_mapping(args, "nodes").get("nodes", "all"))


def run_reboot(ctx: Context, args: Any) -> None:
    """Reboot the selected nodes at once; each kubelet back, each node's boot
    services run."""
    chosen = _selected(ctx, args)
    require(reboot(ctx.cluster, [n.name for n in chosen]), "reboot")
    for node in chosen:
        boot(ctx, node)


def run_stop(ctx: Context, args: Any) -> None:
    chosen = _selected(ctx, args)
    require(stop(ctx.cluster, [n.name for n in chosen]), "power off")
    ctx.record(
        "stopped", sorted({*ctx.found.get("stopped", []), *(n.name for n in chosen)})
    )


def run_start(ctx: Context, args: Any) -> None:
    chosen = _selected(ctx, args)
    require(start(ctx.cluster, [n.name for n in chosen]), "power on")
    for node in chosen:
        boot(ctx, node)
    gone = {n.name for n in chosen}
    ctx.record("stopped", [n for n in ctx.found.get("stopped", []) if n not in gone])


def signal_number(value: str | int) -> int:
    if isinstance(value, int):
        return value
    name = value.upper()
    return int(getattr(signal, name if name.startswith("SIG") else f"SIG{name}"))


def gone_from(node: Node, process: str, timeout: float = 30) -> None:
    """Wait (bounded) until no process of that name runs on ``node``."""

    def gone() -> bool:
        return not checks.running(node, process)

    until(gone, timeout=timeout, interval=0.2, what=f"{process} gone on {node.name}")


def run_kill(ctx: Context, args: Any) -> None:
    """Send a signal to every process of that name on the selected nodes, and wait
    (bounded) until none is left when the signal is KILL."""
    spec = as_mapping(args, "process")
    number = signal_number(spec.get("signal", "KILL"))
    name = spec["process"]
    for node in ctx.nodes(spec.get("nodes", "all")):
        node.exec(["pkill", f"-{number}", "-x", name], check=False)
        if number == signal.SIGKILL:
            gone_from(node, name)


def run_shell(ctx: Context, args: Any) -> None:
    """A bash script as root inside each selected node (at once); it fails unless
    every node's exit is ``rc`` (default 0)."""
    spec = ctx.substitute(as_mapping(args, "script"))
    result = shell(ctx.cluster, spec["script"], spec.get("nodes", "all"))
    wanted = int(spec.get("rc", 0))
    bad = [r for r in result.runs if r.rc != wanted]
    if bad:
        first = spec["script"].strip().splitlines()[0]
        raise AssertionError(
            f"shell {first!r}: "
            + "\n".join(
                f"{r.where}: exit {r.rc} (wanted {wanted})\n{r.output}" for r in bad
            )
        )


REBOOT = Action("reboot", "nodes", "reboot nodes (their boot services run)", run_reboot)
STOP = Action("stop", "nodes", "power nodes off", run_stop)
START = Action("start", "nodes", "power nodes on again", run_start)
KILL = Action("kill", "nodes", "signal a process by name on nodes", run_kill)
SHELL = Action("shell", "nodes", "a bash script as root inside nodes", run_shell)
