"""Read a scenario file: YAML checked against ``scenario.schema.json`` (shipped in this
package), then the rules a schema cannot say, into a :class:`~.model.Scenario`.

Every mistake is reported at once, each with its file, line and step::

    scenarios/reboot.yaml:23: step 5 (reboot): no node 'worker3' in a 2-node cluster
    (control-plane, worker)

Rules beyond the schema: exactly one action per step; Flannel versions that have a
manifest fixture; node names that exist in the scenario's cluster; ``${name}``
parameters that a run defines.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

from harness import matrix, yaml_lines
from harness.actions import ACTIONS
from harness.actions.context import PARAM
from harness.scenario.model import Baseline, Scenario, Step
from harness.yaml_lines import Document, DocumentError, SchemaIssue

SCHEMA_FILE = "scenario.schema.json"
COMMON_KEYS = ("name", "fact")
PARAMS = {
    "flannel_version",
    "flannel_manifest",
    "kube_router_manifest",
    "runtime",
    "provider",
}
SELECTORS = {"all", "workers", "control-plane"}


class ScenarioError(DocumentError):
    """A scenario file that cannot run as written (every issue names file and line)."""


def schema() -> dict[str, Any]:
    text = resources.files("harness.scenario").joinpath(SCHEMA_FILE).read_text()
    data: dict[str, Any] = json.loads(text)
    return data


def load(path: Path) -> Scenario:
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(
            [SchemaIssue(str(path), 1, (), f"cannot read: {exc}")]
        ) from exc
    try:
        doc = yaml_lines.load(text, str(path))
    except DocumentError as exc:
        raise ScenarioError(exc.issues) from exc
    if not isinstance(doc.data, dict):
        raise ScenarioError(
            [SchemaIssue(str(path), 1, (), "a scenario is a YAML mapping")]
        )
    issues = yaml_lines.check(doc, schema(), where=lambda p: _where(doc.data, p))
    if not issues:
        issues = _semantic(doc)
    if issues:
        raise ScenarioError(issues)
    return _build(doc, path)


def _action(raw: Any) -> str:
    keys = [k for k in raw if k not in COMMON_KEYS] if isinstance(raw, dict) else []
    return keys[0] if len(keys) == 1 else "step"


def _where(data: Any, path: tuple[str | int, ...]) -> str:
    if len(path) >= 2 and path[0] == "steps" and isinstance(path[1], int):
        steps = data.get("steps") or []
        raw = steps[path[1]] if path[1] < len(steps) else None
        skip = 3 if len(path) > 2 and path[2] == _action(raw) else 2
        rest = yaml_lines._dotted(path[skip:])
        return f"step {path[1] + 1} ({_action(raw)})" + (f": {rest}" if rest else "")
    return yaml_lines._dotted(path)


def _semantic(doc: Document) -> list[SchemaIssue]:
    data, issues = doc.data, []

    def issue(path: tuple[str | int, ...], message: str) -> None:
        issues.append(
            SchemaIssue(doc.file, doc.line(path), path, message, _where(data, path))
        )

    versions = (data.get("matrix") or {}).get("flannel_versions", "all")
    for i, v in enumerate([] if versions == "all" else versions):
        if v not in matrix.flannel_versions():
            have = ", ".join(matrix.flannel_versions())
            issue(
                ("matrix", "flannel_versions", i),
                f"no manifest for Flannel {v} (have: {have})",
            )
    count = (data.get("cluster") or {}).get("nodes", 2)
    short = short_names(count)
    for i, raw in enumerate(data["steps"]):
        actions = [k for k in raw if k not in COMMON_KEYS]
        if len(actions) != 1:
            found = ", ".join(actions) or "none"
            issue(
                ("steps", i),
                f"a step has exactly one action (found: {found}); "
                f"actions: {', '.join(sorted(ACTIONS))}",
            )
            continue
        for path, name in _node_refs(
            raw[actions[0]], ("steps", i, actions[0]), actions[0]
        ):
            if name not in SELECTORS and name not in short:
                issue(
                    path,
                    f"no node {name!r} in a {count}-node cluster ({', '.join(short)})",
                )
        for path, param in _params(raw, ("steps", i)):
            if param not in PARAMS:
                issue(
                    path,
                    f"unknown parameter ${{{param}}} (known: {', '.join(sorted(PARAMS))})",
                )
    return issues


def short_names(count: int) -> list[str]:
    """Node names without the cluster prefix, as every provider names them (kind's
    convention: ``control-plane``, ``worker``, ``worker2``, ...).

    >>> short_names(3)
    ['control-plane', 'worker', 'worker2']
    """
    return ["control-plane", *(f"worker{'' if i == 1 else i}" for i in range(1, count))]


_NODE_SHORTHAND = {"reboot", "stop", "start", "pods"}


def _node_refs(
    value: Any, path: tuple[str | int, ...], action: str
) -> list[tuple[Any, str]]:
    out: list[tuple[Any, str]] = []
    if action in _NODE_SHORTHAND and isinstance(value, str | list):
        names = [value] if isinstance(value, str) else value
        return [(path, n) for n in names]
    if not isinstance(value, dict):
        return out
    for key in ("nodes", "node"):
        sel = value.get(key)
        names = [sel] if isinstance(sel, str) else list(sel or [])
        out += [((*path, key), n) for n in names]
    for key, sub in value.items():
        if action == "expect" and isinstance(sub, dict):
            out += _node_refs(sub, (*path, key), "check")
    return out


def _params(value: Any, path: tuple[str | int, ...]) -> list[tuple[Any, str]]:
    if isinstance(value, str):
        return [(path, m.group(1)) for m in PARAM.finditer(value)]
    if isinstance(value, dict):
        return [x for k, v in value.items() for x in _params(v, (*path, k))]
    if isinstance(value, list):
        return [x for i, v in enumerate(value) for x in _params(v, (*path, i))]
    return []


def _build(doc: Document, path: Path) -> Scenario:
    data = doc.data
    m, c = data.get("matrix") or {}, data.get("cluster") or {}
    versions = m.get("flannel_versions", "all")
    raw_baseline = c.get("baseline", True)
    baseline = (
        Baseline(
            True,
            raw_baseline.get("podman_dir"),
            raw_baseline.get("script", ""),
            tuple(raw_baseline.get("changes", ())),
        )
        if isinstance(raw_baseline, dict)
        else Baseline(bool(raw_baseline))
    )
    steps = tuple(
        Step(
            number=i + 1,
            action=_action(raw),
            args=raw[_action(raw)],
            line=doc.line(("steps", i)),
            name=raw.get("name", ""),
            fact=" ".join(str(raw.get("fact", "")).split()),
        )
        for i, raw in enumerate(data["steps"])
    )
    return Scenario(
        name=data["name"],
        description=" ".join(data["description"].split()),
        path=path,
        steps=steps,
        tags=tuple(data.get("tags", ())),
        flannel_versions=matrix.flannel_versions()
        if versions == "all"
        else tuple(versions),
        runtimes=tuple(
            matrix.runtime_name(r) for r in m.get("runtimes", [matrix.DEFAULT_RUNTIME])
        ),
        providers=tuple(m.get("providers", ("sandbox", "kind"))),
        nodes=int(c.get("nodes", 2)),
        cni_bin_set=c.get("cni_bin_set", "full"),
        node_monitor_grace_period=c.get("node_monitor_grace_period"),
        baseline=baseline,
        line=doc.line(("name",)),
    )


def is_scenario_file(path: Path) -> bool:
    """A ``*.yaml``/``*.yml`` file in a directory named ``scenarios``."""
    return path.suffix in (".yaml", ".yml") and path.parent.name == "scenarios"
