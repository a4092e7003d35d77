"""Label and field selectors of the Kubernetes API stand-in (a test stand-in, never a
product component).

Parsing follows apimachinery's grammar: label selectors take ``k=v``, ``k==v``,
``k!=v``, ``k in (a,b)``, ``k notin (a,b)``, ``k`` and ``!k``, joined by commas; field
selectors take dotted paths with ``=``, ``==`` and ``!=``
(``spec.nodeName=n1,status.phase!=Running``).
A missing field compares as the empty string, as the real server's field sets do.

>>> LabelSelector.parse("app=flannel,tier in (node,infra)").matches({"app": "flannel",
...     "tier": "node"})
True
>>> FieldSelector.parse("metadata.name=a").matches({"metadata": {"name": "b"}})
False
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

__all__ = ["FieldSelector", "LabelSelector", "SelectorError"]


class SelectorError(ValueError):
    """A selector string that does not parse."""


_KEY = r"[A-Za-z0-9]([-A-Za-z0-9_./]*[A-Za-z0-9])?"
_SET_RE = re.compile(rf"^\s*({_KEY})\s+(in|notin)\s*\(([^)]*)\)\s*$")
_EQ_RE = re.compile(rf"^\s*({_KEY})\s*(==|=|!=)\s*([-A-Za-z0-9_.]*)\s*$")
_EXISTS_RE = re.compile(rf"^\s*(!?)\s*({_KEY})\s*$")


def _split_terms(text: str) -> list[str]:
    """Split on commas that are not inside parentheses."""
    terms: list[str] = []
    cur: list[str] = []
    depth = 0
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            terms.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    terms.append("".join(cur))
    return [t for t in terms if t.strip()]


@dataclass(frozen=True)
class Requirement:
    """One label requirement: ``key op values``."""

    key: str
    op: str  # "in", "notin", "exists", "!exists"
    values: frozenset[str] = frozenset()

    def matches(self, labels: dict[str, str]) -> bool:
        if self.op == "exists":
            return self.key in labels
        if self.op == "!exists":
            return self.key not in labels
        if self.op == "in":
            return self.key in labels and labels[self.key] in self.values
        return self.key not in labels or labels[self.key] not in self.values


@dataclass(frozen=True)
class LabelSelector:
    """A parsed label selector; the empty selector matches everything."""

    requirements: tuple[Requirement, ...] = ()

    @classmethod
    def parse(cls, text: str | None) -> LabelSelector:
        if not text:
            return cls()
        reqs: list[Requirement] = []
        for term in _split_terms(text):
            if m := _SET_RE.match(term):
                values = frozenset(
                    v.strip() for v in m.group(4).split(",") if v.strip()
                )
                reqs.append(Requirement(m.group(1), m.group(3), values))
            elif m := _EQ_RE.match(term):
                op = "notin" if m.group(3) == "!=" else "in"
                reqs.append(Requirement(m.group(1), op, frozenset([m.group(4)])))
            elif m := _EXISTS_RE.match(term):
                reqs.append(
                    Requirement(m.group(2), "!exists" if m.group(1) else "exists")
                )
            else:
                raise SelectorError(f"unable to parse requirement: {term.strip()!r}")
        return cls(tuple(reqs))

    def matches(self, labels: dict[str, str] | None) -> bool:
        labels = labels or {}
        return all(r.matches(labels) for r in self.requirements)

    def __bool__(self) -> bool:
        return bool(self.requirements)


_FIELD_RE = re.compile(r"^\s*([A-Za-z0-9_.\-/]+)\s*(==|=|!=)\s*(.*?)\s*$")


def field_value(obj: dict[str, Any], path: str) -> str:
    """The string form of a dotted path in ``obj`` ("" when absent)."""
    cur: Any = obj
    for part in path.split("."):
        if not isinstance(cur, dict) or part not in cur:
            return ""
        cur = cur[part]
    if cur is None:
        return ""
    if isinstance(cur, bool):
        return "true" if cur else "false"
    return str(cur)


@dataclass(frozen=True)
class FieldSelector:
    """A parsed field selector: ``(path, negated, value)`` terms, all must hold."""

    terms: tuple[tuple[str, bool, str], ...] = ()

    @classmethod
    def parse(cls, text: str | None) -> FieldSelector:
        if not text:
            return cls()
        terms = []
        for term in _split_terms(text):
            m = _FIELD_RE.match(term)
            if not m:
                raise SelectorError(f"invalid field selector: {term.strip()!r}")
            terms.append((m.group(1), m.group(2) == "!=", m.group(3)))
        return cls(tuple(terms))

    def matches(self, obj: dict[str, Any]) -> bool:
        return all((field_value(obj, p) == v) != neg for p, neg, v in self.terms)

    def __bool__(self) -> bool:
        return bool(self.terms)


def parse_label(selector: str | LabelSelector | None) -> LabelSelector:
    return (
        selector
        if isinstance(selector, LabelSelector)
        else LabelSelector.parse(selector)
    )


def parse_field(selector: str | FieldSelector | None) -> FieldSelector:
    return (
        selector
        if isinstance(selector, FieldSelector)
        else FieldSelector.parse(selector)
    )
