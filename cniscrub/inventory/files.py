"""Inventory of CNI files: confs, result caches, IPAM state, and the places a footprint
names (its binary, its runtime and state directories).

``collect`` walks the shared CNI places (:data:`SHARED_PLACES`, every IPAM network
directory under :data:`NETWORKS_DIR`) and the footprint's own :class:`FilePlace` list
under ``--root`` (never following a symlink) and returns plain entries; ``parse`` turns
them into ``file`` resources and decodes conf JSON and ``*.env`` keys without ever
raising on bad input -- a malformed file carries ``parse_error`` instead. A place that
could not be read (or only in part) becomes an entry of type ``unread`` with the
reason, so a footprint can say its residue was not fully inspected.

>>> parse([{"path": "/run/example/subnet.env", "type": "file", "mode": 420,
...         "uid": 0, "gid": 0, "size": 29, "text": "EXAMPLE_NETWORK=10.244.0.0/16\\n"}]
...       )[0].data["env"]
{'EXAMPLE_NETWORK': '10.244.0.0/16'}
"""

from __future__ import annotations

import hashlib
import json
import stat
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cniscrub.errors import InventoryError
from cniscrub.inventory.model import Resource
from cniscrub.node.rootfs import MAX_READ, RootFS


@dataclass(frozen=True)
class FilePlace:
    """A path the file inventory reads: the entry itself and, when ``children``, the
    entries of that directory one level deep; ``read``: read and decode the contents
    of regular files there (confs, env files) -- otherwise only their metadata."""

    path: str
    read: bool = False
    children: bool = True


# what every CNI shares: libcni's confs and result caches (host-local IPAM below)
SHARED_PLACES: tuple[FilePlace, ...] = (
    FilePlace("/etc/cni/net.d", read=True),
    FilePlace("/var/lib/cni/results", read=True),
    FilePlace("/var/lib/cni/cache/results", read=True),
)
NETWORKS_DIR = "/var/lib/cni/networks"  # host-local IPAM: one directory per network
MAX_ENTRIES = 100_000


def _entry(fs: RootFS, path: str, want_text: bool) -> dict[str, Any] | None:
    st = fs.lstat(path)
    if st is None:
        return None
    kind = (
        "dir"
        if stat.S_ISDIR(st.st_mode)
        else "symlink"
        if stat.S_ISLNK(st.st_mode)
        else "file"
        if stat.S_ISREG(st.st_mode)
        else "other"
    )
    out: dict[str, Any] = {"path": path, "type": kind, "mode": stat.S_IMODE(st.st_mode)}
    out.update(uid=st.st_uid, gid=st.st_gid, size=st.st_size)
    if kind == "symlink":
        out["link_target"] = fs.readlink(path)
    elif kind == "file" and want_text:
        if st.st_size > MAX_READ:
            out["error"] = f"file too large to read ({st.st_size} bytes)"
        else:
            data = fs.read(path)
            out["sha256"] = hashlib.sha256(data).hexdigest()
            try:
                out["text"] = data.decode("utf-8") if b"\0" not in data else None
            except UnicodeDecodeError:
                out["text"] = None
            if out["text"] is None:
                out["error"] = "binary (not UTF-8 text)"
    return out


def _scan(fs: RootFS, directory: str, want_text: bool) -> list[dict[str, Any]]:
    out = []
    top = _entry(fs, directory, False)
    if top is None:
        return []
    out.append(top)
    if top["type"] != "dir":
        return out
    names = fs.listdir(directory)
    for name in names[:MAX_ENTRIES]:
        entry = _entry(fs, f"{directory}/{name}", want_text)
        if entry is not None:
            out.append(entry)
    if len(names) > MAX_ENTRIES:
        why = f"only the first {MAX_ENTRIES} of its {len(names)} entries were inspected"
        out.append(_unread(f"{directory}/", why))
    return out


def _unread(path: str, why: str) -> dict[str, Any]:
    return {"path": path, "type": "unread", "error": why}


def _scan_place(fs: RootFS, place: FilePlace) -> list[dict[str, Any]]:
    if not place.children:
        entry = _entry(fs, place.path, place.read)
        return [entry] if entry is not None else []
    return _scan(fs, place.path, place.read)


def collect(
    fs: RootFS, places: Sequence[FilePlace] = ()
) -> tuple[list[dict[str, Any]], list[str]]:
    """Entries of the shared places and ``places``, and notes about paths that were
    refused or could not be read."""
    entries: list[dict[str, Any]] = []
    notes: list[str] = []
    todo = [*SHARED_PLACES, FilePlace(NETWORKS_DIR)]
    try:
        todo += [
            FilePlace(f"{NETWORKS_DIR}/{n}", True) for n in fs.listdir(NETWORKS_DIR)
        ]
    except (InventoryError, OSError):
        pass  # scanning NETWORKS_DIR itself below fails the same way, and says so
    for place in [*todo, *places]:
        try:
            entries += _scan_place(fs, place)
        except (InventoryError, OSError) as exc:
            notes.append(f"{place.path}: not inspected: {exc}")
            entries.append(_unread(place.path, f"not inspected: {exc}"))
    unique = {e["path"]: e for e in entries}
    return list(unique.values()), notes


def parse_env(text: str) -> dict[str, str]:
    """``KEY=value`` lines of an env file; raises ValueError on anything else."""
    env: dict[str, str] = {}
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        if not sep or not key.replace("_", "").isalnum():
            raise ValueError(f"line {n} is not KEY=value: {line[:60]!r}")
        env[key.strip()] = value.strip()
    return env


def _decode(entry: dict[str, Any]) -> dict[str, Any]:
    data = dict(entry)
    text = data.pop("text", None)
    path = data["path"]
    if text is None:
        return data
    name = path.rsplit("/", 1)[-1]
    try:
        if path.startswith("/etc/cni/net.d/") or path.startswith("/var/lib/cni/"):
            is_conf = name.endswith((".conf", ".conflist", ".json"))
            if is_conf or "conflist.tmp" in name or "/results/" in path:
                data["conf"] = json.loads(text)
            else:
                data["text"] = text[:200]
        elif name.endswith(".env"):
            data["env"] = parse_env(text)
    except ValueError as exc:
        data["parse_error"] = f"{path}: {exc}"
    if "conf" in data and not isinstance(data["conf"], dict):
        data["parse_error"] = f"{path}: not a JSON object"
        data.pop("conf")
    return data


def parse(raw: list[dict[str, Any]]) -> list[Resource]:
    """Pure: entries from :func:`collect` -> ``file`` resources keyed by path."""
    return [Resource("file", e["path"], _decode(e)) for e in raw]
