"""Go formatting helpers for the runtime emulation (test emulation only).

The runtimes we imitate are Go programs: their messages quote with ``%q``, their JSON is
``encoding/json`` output (sorted map keys, compact, HTML-safe escapes) and their JSON
parse errors have a fixed shape. These helpers reproduce the common cases closely
enough for golden tests; exotic inputs (invalid UTF-8, control characters) may differ.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["go_json_error", "go_marshal", "go_quote", "go_unmarshal_object"]


def go_quote(text: str) -> str:
    """Return ``text`` the way Go's ``%q`` prints a string (strconv.Quote)."""
    return json.dumps(text, ensure_ascii=False)


def go_marshal(value: Any) -> bytes:
    """Serialise like Go ``json.Marshal`` of ``map[string]interface{}`` values."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return text.encode()


def _reject_constant(name: str) -> Any:
    raise ValueError(f"invalid constant {name}")


def go_json_error(data: bytes) -> str | None:
    """Return Go's ``json.Unmarshal`` error text for ``data``, or None if it parses.

    Covers the errors seen in practice: empty or truncated input (``unexpected end of
    JSON input``) and a stray character (``invalid character 'x' ...``).
    """
    try:
        text = data.decode()
    except UnicodeDecodeError:
        return "invalid character '\\ufffd' looking for beginning of value"
    try:
        json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as err:
        stripped = text.strip()
        if not stripped or err.pos >= len(text.rstrip()):
            return "unexpected end of JSON input"
        char = text[err.pos]
        if err.msg.startswith("Expecting value") and char in "tfn":
            return _literal_error(text[err.pos :])
        if err.msg.startswith("Expecting value"):
            return f"invalid character {_go_char(char)} looking for beginning of value"
        if err.msg.startswith("Extra data"):
            return f"invalid character {_go_char(char)} after top-level value"
        if err.msg.startswith("Expecting property name"):
            return (
                f"invalid character {_go_char(char)} looking for beginning of "
                "object key string"
            )
        if err.msg.startswith("Expecting ',' delimiter"):
            where = (
                "object key:value pair"
                if _in_object(text, err.pos)
                else "array element"
            )
            return f"invalid character {_go_char(char)} after {where}"
        if err.msg.startswith("Expecting ':' delimiter"):
            return f"invalid character {_go_char(char)} after object key"
        return f"invalid character {_go_char(char)} in string literal"
    except ValueError:
        return "invalid character 'N' looking for beginning of value"
    return None


def _literal_error(rest: str) -> str:
    word = {"t": "true", "f": "false", "n": "null"}[rest[0]]
    for index, expected in enumerate(word):
        if index >= len(rest):
            return "unexpected end of JSON input"
        if rest[index] != expected:
            return (
                f"invalid character {_go_char(rest[index])} in literal {word} "
                f"(expecting {_go_char(expected)})"
            )
    return f"invalid character {_go_char(rest[len(word)])} after top-level value"


def _go_char(char: str) -> str:
    if char == "'":
        return "'\\''"
    if char == "\n":
        return "'\\n'"
    return f"'{char}'"


def _in_object(text: str, pos: int) -> bool:
    depth: list[str] = []
    in_str = False
    escaped = False
    for char in text[:pos]:
        if in_str:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_str = False
        elif char == '"':
            in_str = True
        elif char in "{[":
            depth.append(char)
        elif char in "}]" and depth:
            depth.pop()
    return bool(depth) and depth[-1] == "{"


_GO_KIND = {
    list: "array",
    str: "string",
    int: "number",
    float: "number",
    bool: "bool",
}


def go_unmarshal_object(data: bytes) -> tuple[dict[str, Any] | None, str | None]:
    """Parse ``data`` into a JSON object like Go unmarshalling into a map.

    Returns ``(obj, None)`` or ``(None, go_error_text)``.
    """
    error = go_json_error(data)
    if error is not None:
        return None, error
    value = json.loads(data)
    if value is None:
        return {}, None
    if not isinstance(value, dict):
        kind = _GO_KIND.get(type(value), "value")
        return None, (
            f"json: cannot unmarshal {kind} into Go value of type "
            "map[string]interface {}"
        )
    return value, None
