"""Bounded waits on a kind cluster's API, each with a message that says what was seen.

A rebooted node counts as back only when its kubelet has posted a Ready status *after*
the reboot: the Ready condition's ``lastHeartbeatTime`` must differ from the one seen
before (the API would otherwise still show the stale Ready of the old boot).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from harness.providers.kind.commands import Kubectl
from harness.wait import WaitTimeout, until

NODE_READY_TIMEOUT = 180.0
ROLLOUT_TIMEOUT = 300.0


def ready_condition(node: Mapping[str, Any]) -> Mapping[str, Any]:
    for cond in (node.get("status") or {}).get("conditions") or []:
        if cond.get("type") == "Ready":
            return dict(cond)
    return {}


def heartbeats(kubectl: Kubectl) -> dict[str, str]:
    """node name -> its Ready condition's lastHeartbeatTime."""
    items = kubectl.json("get", "nodes")["items"]
    return {
        n["metadata"]["name"]: str(ready_condition(n).get("lastHeartbeatTime", ""))
        for n in items
    }


def wait_nodes_ready(
    kubectl: Kubectl,
    names: Sequence[str],
    *,
    timeout: float = NODE_READY_TIMEOUT,
    since: Mapping[str, str] | None = None,
    what: str = "",
) -> None:
    """Every named node Ready=True (with a heartbeat other than ``since[name]``)."""
    seen: dict[str, Mapping[str, Any]] = {}

    def ready() -> bool:
        items = kubectl.json("get", "nodes")["items"]
        seen.update({n["metadata"]["name"]: ready_condition(n) for n in items})
        return all(
            seen.get(name, {}).get("status") == "True"
            and (
                since is None or seen[name].get("lastHeartbeatTime") != since.get(name)
            )
            for name in names
        )

    try:
        until(ready, timeout=timeout, interval=1.0, what=what or "nodes Ready")
    except WaitTimeout as exc:
        state = "; ".join(
            f"{name}: Ready={seen.get(name, {}).get('status', 'absent')} "
            f"({seen.get(name, {}).get('reason', '')}: {seen.get(name, {}).get('message', '')})"
            for name in names
        )
        raise WaitTimeout(f"{exc}; last seen: {state}") from None


def wait_rollout(
    kubectl: Kubectl,
    namespace: str,
    kind: str,
    name: str,
    timeout: float = ROLLOUT_TIMEOUT,
) -> None:
    """``kubectl rollout status`` (itself bounded); on failure say which pods hang."""
    result = kubectl(
        "-n",
        namespace,
        "rollout",
        "status",
        f"{kind.lower()}/{name}",
        f"--timeout={timeout:.0f}s",
        timeout=timeout + 30,
        check=False,
    )
    if result.ok:
        return
    pods = kubectl("-n", namespace, "get", "pods", "-o", "wide", check=False)
    raise WaitTimeout(
        f"timed out after {timeout:.0f}s waiting for {kind} {namespace}/{name} to roll "
        f"out: {result.stderr.strip() or result.stdout.strip()}\n{pods.stdout}"
    )
