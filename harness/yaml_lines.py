"""YAML documents that remember the line of every value, checked against a JSON Schema
so that each mistake names its file and line.

Used by every data file a user writes for the harness (runbooks; scenario files can use
it too): :func:`load` parses with PyYAML's safe loader and records, for every path into
the document (``("steps", 2, "shell")``), the line it starts on; :func:`check` runs a
``jsonschema`` validator and turns each error into a :class:`SchemaIssue` carrying that
line. Callers add their own context (a step number, a scenario name) with ``where``.

>>> doc = load("steps:\\n  - shell: ls\\n  - bogus: 1\\n", "rb.yaml")
>>> doc.line(("steps", 1))
3
>>> schema = {"type": "object", "properties": {"steps": {"type": "array",
...     "items": {"type": "object", "additionalProperties": False,
...               "properties": {"shell": {"type": "string"}}}}}}
>>> [str(i) for i in check(doc, schema)]
["rb.yaml:3: steps[1]: Additional properties are not allowed ('bogus' was unexpected)"]
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import yaml

Path_ = tuple[str | int, ...]


@dataclass(frozen=True)
class SchemaIssue:
    """One mistake in a user's file: where it is and what is wrong."""

    file: str
    line: int
    path: Path_
    message: str
    where: str = ""  # the caller's words for the place, e.g. "step 3 (shell)"

    def __str__(self) -> str:
        place = self.where or _dotted(self.path)
        return f"{self.file}:{self.line}: {place + ': ' if place else ''}{self.message}"


class DocumentError(ValueError):
    """A file that is not valid YAML, or not valid for its schema (all issues)."""

    def __init__(self, issues: Sequence[SchemaIssue]) -> None:
        self.issues = list(issues)
        super().__init__("\n".join(str(i) for i in self.issues))


@dataclass
class Document:
    """Parsed YAML plus the line (1-based) where each path's value starts."""

    data: Any
    file: str
    lines: dict[Path_, int] = field(default_factory=dict)

    def line(self, path: Sequence[str | int]) -> int:
        """The line of ``path``, or of its nearest ancestor that has one."""
        p = tuple(path)
        while p not in self.lines and p:
            p = p[:-1]
        return self.lines.get(p, 1)


def load(text: str, file: str) -> Document:
    """Parse one YAML document; a syntax error becomes a :class:`DocumentError` with
    the line PyYAML reports."""
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        problem = " ".join(str(p) for p in (exc.context, exc.problem) if p)
        raise DocumentError(
            [SchemaIssue(file, line, (), f"invalid YAML: {problem}")]
        ) from exc
    finally:
        loader.dispose()
    doc = Document(data, file)
    if node is not None:
        _record(node, (), doc.lines)
    return doc


def _record(node: yaml.Node, path: Path_, lines: dict[Path_, int]) -> None:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode):
                _record(value, (*path, key.value), lines)
                # a key's own line, where the reader sees it (a block value starts
                # on the next line)
                lines[(*path, key.value)] = key.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _record(item, (*path, index), lines)


Where = Callable[[Path_], str]


def check(
    doc: Document, schema: Mapping[str, Any], where: Where | None = None
) -> list[SchemaIssue]:
    """Every schema error of ``doc``, in file order, each at the line of the value it
    is about (the deepest path the error names)."""
    from jsonschema import Draft202012Validator

    validator = Draft202012Validator(schema)
    issues = []
    for error in _leaves(validator.iter_errors(doc.data)):
        path = tuple(error.absolute_path)
        issues.append(
            SchemaIssue(
                doc.file,
                doc.line(path),
                path,
                _message(error),
                where(path) if where else "",
            )
        )
    return sorted(set(issues), key=lambda i: (i.line, i.path.__repr__(), i.message))


def _leaves(errors: Iterator[Any]) -> Iterator[Any]:
    """For a failed ``oneOf``/``anyOf``, the errors of the branches whose shape fits
    the value (a mapping is not explained by "is not of type string"); when every
    branch only wanted other keys, one "needs one of" error."""
    for error in errors:
        if error.validator not in ("oneOf", "anyOf") or not error.context:
            yield error
            continue
        branches: dict[int, list[Any]] = {}
        for sub in error.context:
            branches.setdefault(sub.schema_path[0], []).append(sub)
        fitting = [b for b in branches.values() if not any(_wrong_shape(e) for e in b)]
        if fitting and all(
            e.validator == "required" and not e.relative_path
            for b in fitting
            for e in b
        ):
            error.message = "needs one of: " + ", ".join(
                str(e.validator_value[0]) for b in fitting for e in b
            )
            yield error
        elif fitting:
            fewest: list[Any] = min(fitting, key=len)
            yield from _leaves(iter(fewest))
        else:
            yield error


def _wrong_shape(error: Any) -> bool:
    return error.validator in ("type", "const") and not error.relative_path


def _message(error: Any) -> str:
    if error.validator == "enum":
        allowed = ", ".join(str(v) for v in error.validator_value)
        return f"{error.instance!r} is not one of: {allowed}"
    if error.validator == "type":
        wanted = error.validator_value
        wanted = " or ".join(wanted) if isinstance(wanted, list) else wanted
        return f"{error.instance!r} is not of type {wanted}"
    return str(error.message)


def _dotted(path: Path_) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out
