"""Checks a backup passes before ``restore`` lets it near the node.

A backup event must name an action of the journal's ``plan.json`` (same id, kind, key
and target), carry the very resource the plan recorded, and hold objects that are
exactly one thing of the recorded kind: an iptables rule spec is one line without
another command in it, a chain's name and table are real, nft text is one
``table <family> <name> { ... }`` block and nothing else, and kept file bytes match
their recorded size and sha256. The first failure is returned as text (None: trusted).

>>> rule_spec_problem('-s 10.244.0.0/16 -m comment --comment "x" -j ACCEPT') is None
True
>>> rule_spec_problem("-j ACCEPT\\n-A INPUT -j DROP")
'holds a line break or control character'
>>> nft_text_problem("table ip t {\\n chain c {\\n }\\n}\\ntable ip other { }\\n", "ip", "t")
'text after the table block'
"""

from __future__ import annotations

import re
import shlex
from typing import Any

from cniscrub.journal import filestore

TABLES = ("filter", "nat", "mangle", "raw", "security")
CHAIN = re.compile(r"^[A-Za-z0-9_.:+@][A-Za-z0-9_.:+@-]{0,28}$")
COMMANDS = {
    *("-A", "-I", "-D", "-R", "-N", "-X", "-F", "-Z", "-P", "-E", "-L", "-S"),
    *("--append", "--insert", "--delete", "--replace", "--new-chain"),
    *("--delete-chain", "--flush", "--zero", "--policy", "--rename-chain"),
    *("--list", "--list-rules"),
}
NFT_FORBIDDEN = {"include", "define", "redefine", "undefine", "table", "ruleset"}


def rule_spec_problem(spec: object) -> str | None:
    """Why ``spec`` is not one iptables rule spec (None: it is)."""
    if not isinstance(spec, str) or not spec.strip():
        return "is not a rule spec"
    if any(ord(c) < 32 or ord(c) == 127 for c in spec):
        return "holds a line break or control character"
    try:
        tokens = shlex.split(spec)
    except ValueError as exc:
        return f"does not parse ({exc})"
    for i, tok in enumerate(tokens):
        if tok in COMMANDS and (i == 0 or tokens[i - 1] != "--comment"):
            return f"holds another iptables command ({tok})"
    return None


def ipt_problem(kind: str, d: dict[str, Any]) -> str | None:
    """Why the rule or chain ``d`` is not one object of a real table and chain."""
    if d.get("backend") not in ("nft", "legacy") or d.get("family") not in (4, 6):
        return "names no iptables backend/family"
    if d.get("table") not in TABLES:
        return f"names no iptables table ({d.get('table')!r})"
    if not isinstance(d.get("chain"), str) or not CHAIN.match(d["chain"]):
        return f"names no valid chain ({d.get('chain')!r})"
    specs = [d.get("spec")] if kind == "ipt_rule" else d.get("rules")
    if not isinstance(specs, list):
        return "has no rule list"
    if kind == "ipt_rule" and (not isinstance(d.get("pos"), int) or d["pos"] < 1):
        return "has no valid position"
    for spec in specs:
        why = rule_spec_problem(spec)
        if why:
            return f"rule {str(spec)[:60]!r} {why}"
    return None


def _nft_tokens(text: str) -> list[str]:
    """Words and braces outside quoted strings and comments."""
    out, word, i, n = [], "", 0, len(text)
    while i < n:
        c = text[i]
        if c == '"':
            end = text.find('"', i + 1)
            while end > 0 and text[end - 1] == "\\":
                end = text.find('"', end + 1)
            if end < 0:
                raise ValueError("unterminated string")
            word, i = word + "S", end + 1
            continue
        if c == "#":
            end = text.find("\n", i)
            i = n if end < 0 else end
            continue
        if c in "{};\n" or c.isspace():
            if word:
                out.append(word)
            word = ""
            if c in "{}":
                out.append(c)
        else:
            word += c
        i += 1
    return [*out, word] if word else out


def nft_text_problem(text: object, family: str, name: str) -> str | None:
    """Why ``text`` is not exactly one ``table FAMILY NAME { ... }`` block."""
    if not isinstance(text, str) or "\0" in text:
        return "is not nft text"
    try:
        tokens = _nft_tokens(text)
    except ValueError as exc:
        return f"does not parse ({exc})"
    if tokens[:4] != ["table", family, name, "{"]:
        return f"does not start with table {family} {name}"
    depth = 0
    for i, tok in enumerate(tokens[3:], 3):
        depth += (tok == "{") - (tok == "}")
        if depth == 0:
            return "text after the table block" if tokens[i + 1 :] else None
        if tok in NFT_FORBIDDEN:
            return f"holds {tok!r} inside the table block"
    return "the table block is not closed"


def _same_action(a: dict[str, Any], planned: dict[str, Any] | None) -> str | None:
    if planned is None:
        return f"names action {a.get('id')!r}, which plan.json does not hold"
    for key in ("kind", "key", "target"):
        if a.get(key) != planned.get(key):
            return f"its {key} differs from action {planned['id']} of plan.json"
    return None


def _resource_problem(
    kind: str, payload: dict[str, Any], planned: dict[str, Any]
) -> str | None:
    want = planned.get("data", {}).get("resource", {}).get("data")
    if payload.get("resource") != want:
        return f"its {kind} differs from the one plan.json recorded"
    if kind in ("ipt_rule", "ipt_chain"):
        return ipt_problem(kind, payload["resource"])
    if kind == "link":
        keys = {c.get("key") for c in payload.get("covers", []) if isinstance(c, dict)}
        plan_keys = {c["key"] for c in planned["data"].get("covers", [])}
        if not plan_keys <= keys:
            return "it lacks addresses/routes plan.json lists with the link"
    return None


def _file_problem(
    payload: dict[str, Any], planned: dict[str, Any], blobs: str
) -> str | None:
    rdata = planned.get("data", {}).get("resource", {}).get("data", {})
    if payload.get("path") != planned["key"] or payload.get("type") != rdata.get(
        "type"
    ):
        return "its path or type differs from plan.json"
    if not all(isinstance(payload.get(k), int) for k in ("mode", "uid", "gid")):
        return "its mode or owner is missing"
    if payload["type"] == "symlink":
        target = payload.get("link_target")
        ok = isinstance(target, str) and target and "\0" not in target
        return None if ok else "its symlink target is not a path"
    if payload["type"] == "file":
        try:
            filestore.check(payload, blobs)
        except filestore.StoredFileError as exc:
            return str(exc)
        if rdata.get("sha256") and rdata["sha256"] != payload.get("sha256"):
            return "its bytes differ from the file the plan read (sha256)"
    return None


def backup_problem(
    event: dict[str, Any], planned: dict[str, Any] | None, blobs: str
) -> str | None:
    """Why the backup ``event`` cannot be restored from (None: it can)."""
    a, payload = event.get("action"), event.get("payload")
    if not isinstance(a, dict) or not isinstance(payload, dict):
        return "is not a backup event"
    why = _same_action(a, planned)
    if why or payload.get("gone"):
        return why
    assert planned is not None
    kind = planned["kind"]
    if kind == "file":
        return _file_problem(payload, planned, blobs)
    if kind == "nft_table":
        family, _, name = planned["key"].partition(" ")
        if (payload.get("family"), payload.get("name")) != (family, name):
            return "it names another nft table than plan.json"
        why = nft_text_problem(payload.get("text"), family, name)
        return f"its nft text {why}" if why else None
    return _resource_problem(kind, payload, planned)
