"""The step layer over the action functions: the :class:`Action` record (a step kind:
``run(ctx, args)``), the :class:`Context` a scenario run builds once (the cluster
through the provider protocols only, the run's parameters, what the steps found,
labelled snapshots, the foreign baseline) and :func:`require`, which turns a failed
:class:`~harness.actions.base.ActionResult` into the step's error.

``args`` is the step's value as written (checked by the scenario schema), shorthand
included. Steps change or read the cluster and record what they learnt in
``ctx.found``; an expectation that does not hold raises :class:`ExpectationFailed`.

>>> ctx = Context(cluster=None, params={"flannel_version": "v0.27.3"})  # type: ignore[arg-type]
>>> ctx.substitute({"args": "delete -f ${flannel_manifest}"})["args"].endswith(
...     "kube-flannel-v0.27.3.yml")
True
>>> ctx.substitute("${nope}")
Traceback (most recent call last):
...
KeyError: 'unknown parameter ${nope} (known: flannel_manifest, flannel_version...)'
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness import matrix
from harness.actions.base import ActionResult, select

if TYPE_CHECKING:
    from harness.providers.base import Cluster, Node
    from harness.snapshot.state import ClusterSnapshot

Log = Callable[[str], None]
PARAM = re.compile(r"\$\{([a-z_][a-z0-9_]*)\}")
KUBE_ROUTER_MANIFESTS = matrix.MANIFESTS


class ExpectationFailed(AssertionError):
    """An ``expect`` check did not hold; ``detail`` says what was seen instead."""

    def __init__(self, check: str, detail: str) -> None:
        self.check, self.detail = check, detail
        super().__init__(f"{check}: {detail}")


@dataclass(frozen=True)
class Action:
    """One kind of step: ``run(ctx, args)``; ``family`` is the module it lives in."""

    name: str
    family: str
    short: str
    run: Callable[[Context, Any], None]


@dataclass
class Context:
    """Everything a run's steps share, built once per run (scenario or runbook)."""

    cluster: Cluster
    params: Mapping[str, str]
    found: dict[str, Any] = field(default_factory=dict)
    snapshots: dict[str, ClusterSnapshot] = field(default_factory=dict)
    # node name -> the foreign objects the baseline put there (name -> fingerprint)
    baseline: dict[str, dict[str, str]] = field(default_factory=dict)
    # shell script re-run on a node when it boots (the baseline's kernel state: what
    # netfilter-persistent, dockerd, kube-proxy and the network config recreate)
    boot_script: str = ""
    source: Path | None = None  # the scenario/runbook file (relative paths)
    log: Log = field(default=lambda _line: None)

    # -- parameters ---------------------------------------------------------------------
    def values(self) -> dict[str, str]:
        """Every ``${name}`` a step may use: the run's params and the manifests."""
        out = dict(self.params)
        version = out.get("flannel_version") or matrix.DEFAULT_FLANNEL_VERSION
        out.setdefault("flannel_version", version)
        out.setdefault("flannel_manifest", str(matrix.manifest_path(version)))
        router = sorted(KUBE_ROUTER_MANIFESTS.glob("kube-router-*.yml"))
        if router:
            out.setdefault("kube_router_manifest", str(router[-1]))
        return out

    def substitute(self, value: Any) -> Any:
        """``value`` with every ``${name}`` in its strings replaced (recursively)."""
        if isinstance(value, str):
            known = self.values()

            def one(m: re.Match[str]) -> str:
                if m.group(1) not in known:
                    names = ", ".join(sorted(known))
                    raise KeyError(
                        f"unknown parameter ${{{m.group(1)}}} (known: {names})"
                    )
                return known[m.group(1)]

            return PARAM.sub(one, value)
        if isinstance(value, Mapping):
            return {k: self.substitute(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.substitute(v) for v in value]
        return value

    # -- nodes --------------------------------------------------------------------------
    def nodes(self, selector: Any = "all") -> list[Node]:
        """``all``, ``workers``, ``control-plane``, a node name (full, or short as in
        ``worker2``) or a list of names -> the nodes (:func:`~.base.select`)."""
        return select(self.cluster, "all" if selector is None else selector)

    def node(self, name: str) -> Node:
        for n in self.cluster.nodes:
            if name in (n.name, _short(n.name, self.cluster.name)):
                return n
        have = ", ".join(_short(n.name, self.cluster.name) for n in self.cluster.nodes)
        raise LookupError(f"no node {name!r} in cluster {self.cluster.name} ({have})")

    def short(self, node: Node) -> str:
        """A node's name without the cluster prefix (``worker2``)."""
        return _short(node.name, self.cluster.name)

    def path(self, value: str) -> Path:
        """A path as written in the run's file: relative to that file."""
        p = Path(value)
        if not p.is_absolute() and self.source is not None:
            p = self.source.parent / p
        return p

    def record(self, key: str, value: Any) -> None:
        """Keep what a step found (the report and later steps read it)."""
        self.found[key] = value


def _short(node: str, cluster: str) -> str:
    prefix = f"{cluster}-"
    return node[len(prefix) :] if node.startswith(prefix) else node


def as_mapping(args: Any, key: str) -> dict[str, Any]:
    """A step's shorthand (a bare value) as the mapping ``{key: value}``."""
    if isinstance(args, Mapping):
        return dict(args)
    return {} if args is None else {key: args}


def require(result: ActionResult, what: str) -> ActionResult:
    """``result`` when it succeeded; else an AssertionError with every failed run's
    place, exit code and output (the step's error)."""
    if result.ok:
        return result
    lines = [f"{what}: {result.failure}" if result.failure else f"{what}:"]
    for run in result.runs:
        if not run.ok:
            tail = "\n    ".join(run.output.splitlines()[-12:])
            lines.append(f"  {run.where}: exit {run.rc}\n    {tail}".rstrip())
    raise AssertionError("\n".join(lines))
