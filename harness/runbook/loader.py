"""Read a runbook file: the YAML format (checked against ``runbook.schema.json``, shipped
in this package) or a plain shell script, into a :class:`~harness.runbook.model.Runbook`.

Every mistake is reported with the file, the line and the step it is in, all at once::

    runbook.yaml:14: step 3 (wait): 'pods_gone' ... is not valid

A file is YAML when its name ends in ``.yaml``/``.yml``, a script when it ends in
``.sh`` or starts with ``#!``; otherwise a YAML mapping with ``steps`` decides.
"""

from __future__ import annotations

import json
import shlex
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from harness import yaml_lines
from harness.runbook import shellscript
from harness.runbook.model import KINDS, Runbook, Step
from harness.yaml_lines import DocumentError, SchemaIssue

SCHEMA_FILE = "runbook.schema.json"


def schema() -> dict[str, Any]:
    """The runbook JSON Schema shipped with the package."""
    text = resources.files("harness.runbook").joinpath(SCHEMA_FILE).read_text()
    data: dict[str, Any] = json.loads(text)
    return data


class RunbookError(DocumentError):
    """A runbook that cannot be run as written (every issue names file and line)."""


def load(path: Path) -> Runbook:
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as exc:
        raise RunbookError(
            [SchemaIssue(str(path), 1, (), f"cannot read: {exc}")]
        ) from exc
    if _is_shell(path, text):
        return load_shell(text, path)
    return load_yaml(text, path)


def _is_shell(path: Path, text: str) -> bool:
    if path.suffix in (".yaml", ".yml"):
        return False
    if path.suffix in (".sh", ".bash") or text.startswith("#!"):
        return True
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        return True
    return not (isinstance(data, dict) and "steps" in data)


# --- YAML -----------------------------------------------------------------------------


def load_yaml(text: str, path: Path) -> Runbook:
    try:
        doc = yaml_lines.load(text, str(path))
    except DocumentError as exc:
        raise RunbookError(exc.issues) from exc
    issues = yaml_lines.check(doc, schema(), where=lambda p: _where(doc.data, p))
    if issues:
        raise RunbookError(issues)
    data = doc.data
    default = data.get("on_failure", "continue")
    steps = tuple(
        _step(i + 1, raw, doc.line(("steps", i)), default)
        for i, raw in enumerate(data["steps"])
    )
    return Runbook(
        path=path,
        format="yaml",
        steps=steps,
        name=str(data.get("name") or path.stem),
        description=str(data.get("description") or "").strip(),
    )


def _where(data: Any, path: yaml_lines.Path_) -> str:
    """``step 3 (shell)`` for a path into the steps list, else the dotted path."""
    if len(path) >= 2 and path[0] == "steps" and isinstance(path[1], int):
        steps = data.get("steps") if isinstance(data, dict) else None
        raw = steps[path[1]] if isinstance(steps, list) else None
        kind = next((k for k in KINDS if isinstance(raw, dict) and k in raw), "")
        rest = ".".join(str(p) for p in path[2:])
        place = f"step {path[1] + 1}" + (f" ({kind})" if kind else "")
        return place + (f" {rest}" if rest else "")
    return ".".join(str(p) for p in path)


def _step(number: int, raw: dict[str, Any], line: int, default: str) -> Step:
    kind = next(k for k in KINDS if k in raw)
    value = raw[kind]
    nodes = raw.get("nodes", "all")
    return Step(
        number=number,
        kind=kind,
        params=_params(kind, value),
        line=line,
        source=value if isinstance(value, str) else json.dumps(value),
        name=str(raw.get("name") or ""),
        nodes=nodes if isinstance(nodes, str) else tuple(nodes),
        on_failure=raw.get("on_failure", default),
        timeout=raw.get("timeout"),
    )


def _args(value: Any) -> list[str]:
    return shlex.split(value) if isinstance(value, str) else [str(v) for v in value]


def _params(kind: str, value: Any) -> dict[str, Any]:
    """Each kind's arguments in one shape, whatever shorthand the file used."""
    if kind == "kubectl":
        if isinstance(value, dict) and "manifest" in value:
            return {"args": [value.get("verb", "apply"), "-f", value["manifest"]]}
        return {"args": _args(value["args"] if isinstance(value, dict) else value)}
    if kind == "cniscrub":
        return {"args": _args(value["args"] if isinstance(value, dict) else value)}
    if kind == "shell":
        return {"script": value["script"] if isinstance(value, dict) else value}
    if kind == "reboot":
        mode = value.get("mode") if isinstance(value, dict) else value
        return {"mode": mode or "all-at-once"}
    if kind == "install":
        if isinstance(value, str):
            return {"manifest": value, "wait": True}
        return {"manifest": value["manifest"], "wait": value.get("wait", True)}
    if kind == "wait":
        return {"seconds": value} if not isinstance(value, dict) else dict(value)
    return dict(value)  # expect


# --- plain shell script ---------------------------------------------------------------

ONCE_NOTE = "kubectl line: ran once against the cluster, not on every node"
BLOCK_NOTE = (
    "mentions kubectl: ran once, on the control-plane node with its admin "
    "kubeconfig, not on every node"
)


def load_shell(text: str, path: Path) -> Runbook:
    try:
        cmds = shellscript.commands(text)
    except shellscript.ShellSyntaxError as exc:
        raise RunbookError(
            [
                SchemaIssue(
                    str(path), exc.line, (), f"bash cannot parse the script: {exc}"
                )
            ]
        ) from exc
    steps: list[Step] = []
    on_failure = "continue"
    notes: list[str] = []
    for cmd in cmds:
        if shellscript.errexit(cmd):
            on_failure = "stop"
            notes.append(f"line {cmd.line}: `{cmd.text}`: a failing line stops the run")
            continue
        steps.append(_shell_step(len(steps) + 1, cmd, on_failure))
    if not steps:
        raise RunbookError(
            [SchemaIssue(str(path), 1, (), "the script has no commands")]
        )
    return Runbook(
        path=path,
        format="shell",
        steps=tuple(steps),
        name=path.name,
        notes=tuple(notes),
    )


def _shell_step(number: int, cmd: shellscript.Command, on_failure: str) -> Step:
    argv = shellscript.kubectl_argv(cmd)
    kind = "shell"
    notes: tuple[str, ...] = ()
    params: dict[str, Any] = {"script": cmd.text}
    if argv is not None:
        kind, notes = "kubectl", (ONCE_NOTE,)
        params = {
            "args": argv[1:],
            "tolerate_failure": shellscript.tolerates_failure(cmd),
        }
    elif shellscript.mentions_kubectl(cmd):
        kind, notes = "kubectl", (BLOCK_NOTE,)
    return Step(
        number=number,
        kind=kind,
        params=params,
        line=cmd.line,
        source=cmd.text,
        name=cmd.comment,
        on_failure=on_failure,
        notes=notes,
    )
