"""Errors of the flannel CNI plugin emulation, worded like Go (test emulation; §3.4).

>>> go_json_error("")
'unexpected end of JSON input'
"""

from __future__ import annotations

import errno
import json
import os

ERR_INVALID_ENV = 4  # CNI spec error codes
ERR_INTERNAL = 999


class PluginError(Exception):
    """An error the plugin reports as a CNI error object (``msg`` = str(self))."""

    def __init__(self, msg: str, code: int = ERR_INTERNAL) -> None:
        super().__init__(msg)
        self.code = code


def go_os_error(op: str, path: str, e: OSError) -> str:
    """Go's ``*PathError`` text: ``open /x: no such file or directory``."""
    text = os.strerror(e.errno or errno.EIO)
    return f"{op} {path}: {text[:1].lower()}{text[1:]}"


def go_json_error(data: str) -> str:
    """Go encoding/json's message for the common failures."""
    try:
        json.loads(data)
    except json.JSONDecodeError as e:
        if e.pos >= len(data.rstrip()):
            return "unexpected end of JSON input"
        return f"invalid character {data[e.pos]!r} looking for beginning of value"
    return "json: cannot unmarshal value"
