"""Patch semantics of the Kubernetes API stand-in (a test stand-in, never a product
component): JSON merge patch (RFC 7386), JSON patch (RFC 6902, via ``jsonpatch``) and
the strategic merge patch that kubectl and the official client send for built-in kinds.

Strategic merge follows the struct tags of k8s.io/api for the fields the
harness touches. Lists named in :data:`MERGE_KEYS` merge item by item on their
key: ``conditions`` by ``type``, ``containers``, ``env`` and ``volumes`` by
``name``, ``volumeMounts`` by ``mountPath`` (as upstream). ``finalizers`` merges
as a set; every other list is replaced. Directives handled, never stored:
``$patch: replace|delete`` (maps and list items), ``$setElementOrder/<list>``,
``$retainKeys``, ``$deleteFromPrimitiveList/<list>``.

>>> merged = strategic_merge({"conditions": [{"type": "Ready", "status": "True"}]},
...     {"conditions": [{"type": "NetworkUnavailable", "status": "False"}]})
>>> merged["conditions"][0]
{'type': 'Ready', 'status': 'True'}
"""

from __future__ import annotations

from typing import Any

import jsonpatch

__all__ = [
    "MERGE_KEYS",
    "PATCH_CONTENT_TYPES",
    "PatchError",
    "apply_patch",
    "merge_patch",
    "normalize_patch_type",
    "strategic_merge",
]

#: list field name -> patchMergeKey (``ports`` is resolved per item, see _merge_key).
MERGE_KEYS: dict[str, str] = {
    "conditions": "type",
    "containers": "name",
    "initContainers": "name",
    "ephemeralContainers": "name",
    "env": "name",
    "volumes": "name",
    "volumeMounts": "mountPath",
    "volumeDevices": "devicePath",
    "imagePullSecrets": "name",
    "ownerReferences": "uid",
    "addresses": "type",
    "hostAliases": "ip",
    "topologySpreadConstraints": "topologyKey",
    "ports": "",
}
#: lists of scalars merged as sets (patchStrategy "merge" without a key).
MERGE_PRIMITIVES = frozenset({"finalizers"})

PATCH_CONTENT_TYPES: dict[str, str] = {
    "application/json-patch+json": "json",
    "application/merge-patch+json": "merge",
    "application/strategic-merge-patch+json": "strategic",
    "application/apply-patch+yaml": "apply",
}

_DELETE = object()


class PatchError(ValueError):
    """A patch that cannot be applied (maps to a 422 ``Invalid`` Status)."""


def normalize_patch_type(patch_type: str) -> str:
    """Map a content type or a short name to ``json|merge|strategic|apply``."""
    short = PATCH_CONTENT_TYPES.get(patch_type.split(";")[0].strip(), patch_type)
    if short not in ("json", "merge", "strategic", "apply"):
        raise PatchError(f"unsupported patch type {patch_type!r}")
    return short


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386: maps merge recursively, ``null`` deletes, anything else replaces."""
    if not isinstance(patch, dict):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def _strip(value: Any) -> Any:
    """Drop every ``$`` directive from a value that is stored as-is."""
    if isinstance(value, dict):
        return {k: _strip(v) for k, v in value.items() if not k.startswith("$")}
    if isinstance(value, list):
        return [_strip(v) for v in value if not (isinstance(v, dict) and "$patch" in v)]
    return value


def _merge_key(field: str, items: list[Any]) -> str | None:
    key = MERGE_KEYS.get(field)
    if key is None or not all(isinstance(i, dict) for i in items):
        return None
    if field == "ports":
        return "containerPort" if any("containerPort" in i for i in items) else "port"
    return key


def _merge_list(field: str, orig: Any, patch: list[Any]) -> list[Any]:
    orig_list = orig if isinstance(orig, list) else []
    if field in MERGE_PRIMITIVES:
        return orig_list + [v for v in patch if v not in orig_list]
    key = _merge_key(field, orig_list + patch)
    if key is None:
        return _strip(patch)
    if any(i.get("$patch") == "replace" for i in patch):
        return _strip(patch)
    result = list(orig_list)
    for item in patch:
        idx = next(
            (n for n, cur in enumerate(result) if cur.get(key) == item.get(key)), None
        )
        if item.get("$patch") == "delete":
            if idx is not None:
                del result[idx]
        elif idx is None:
            result.append(_strip(item))
        else:
            result[idx] = strategic_merge(result[idx], item)
    return result


def _order(items: list[Any], order: list[Any], key: str | None) -> list[Any]:
    def ident(v: Any) -> Any:
        return v.get(key) if key and isinstance(v, dict) else v

    wanted = [ident(o) for o in order]
    ranked = [i for w in wanted for i in items if ident(i) == w]
    return ranked + [i for i in items if ident(i) not in wanted]


def strategic_merge(original: Any, patch: Any) -> Any:
    """Apply a strategic merge patch to ``original`` without mutating either."""
    if not isinstance(patch, dict):
        return _strip(patch)
    directive = patch.get("$patch")
    if directive == "replace":
        return _strip(patch)
    if directive == "delete":
        return _DELETE
    result = dict(original) if isinstance(original, dict) else {}
    orders: dict[str, list[Any]] = {}
    for key, value in patch.items():
        if key.startswith("$setElementOrder/"):
            orders[key.split("/", 1)[1]] = value
        elif key.startswith("$deleteFromPrimitiveList/"):
            name = key.split("/", 1)[1]
            result[name] = [v for v in result.get(name) or [] if v not in value]
        elif key.startswith("$"):
            continue
        elif value is None:
            result.pop(key, None)
        elif isinstance(value, dict):
            merged = strategic_merge(result.get(key), value)
            if merged is _DELETE:
                result.pop(key, None)
            else:
                result[key] = merged
        elif isinstance(value, list):
            result[key] = _merge_list(key, result.get(key), value)
        else:
            result[key] = value
    for name, order in orders.items():
        if isinstance(result.get(name), list):
            items = result[name]
            result[name] = _order(items, order, _merge_key(name, items + order))
    retain = patch.get("$retainKeys")
    if isinstance(retain, list):
        result = {k: v for k, v in result.items() if k in retain or k in patch}
    return result


def apply_patch(
    original: dict[str, Any], patch: Any, patch_type: str
) -> dict[str, Any]:
    """The patched copy of ``original``; :class:`PatchError` on bad input."""
    kind = normalize_patch_type(patch_type)
    if kind == "json":
        if not isinstance(patch, list):
            raise PatchError("a JSON patch must be a list of operations")
        try:
            result = jsonpatch.apply_patch(original, patch)
        except (jsonpatch.JsonPatchException, jsonpatch.JsonPointerException) as exc:
            raise PatchError(str(exc)) from exc
    elif not isinstance(patch, dict):
        raise PatchError(f"a {kind} patch must be a JSON object")
    elif kind == "merge":
        result = merge_patch(original, patch)
    else:
        result = strategic_merge(original, patch)
    if not isinstance(result, dict):
        raise PatchError("the patch does not produce an object")
    return result
