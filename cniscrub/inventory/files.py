"""Inventory of CNI files: confs, the flannel binary, /run/flannel, /var/lib/cni state.

``collect`` walks a fixed list of directories under ``--root`` (never following a
symlink) and returns plain entries; ``parse`` turns them into ``file`` resources and
decodes what the footprint needs (conflist JSON, subnet.env keys) without ever
raising on bad input -- a malformed file carries ``parse_error`` instead.

>>> parse([{"path": "/run/flannel/subnet.env", "type": "file", "mode": 420,
...         "uid": 0, "gid": 0, "size": 29, "text": "FLANNEL_NETWORK=10.244.0.0/16\\n"}]
...       )[0].data["env"]
{'FLANNEL_NETWORK': '10.244.0.0/16'}
"""

from __future__ import annotations

import hashlib
import json
import stat
from typing import Any

from cniscrub.errors import InventoryError
from cniscrub.inventory.model import Resource
from cniscrub.node.rootfs import MAX_READ, RootFS

# directories listed one level deep; (dir, read contents of files whose name matches)
SCAN_DIRS: tuple[tuple[str, bool], ...] = (
    ("/etc/cni/net.d", True),
    ("/run/flannel", True),
    ("/var/lib/cni/flannel", False),
    ("/var/lib/cni/results", True),
    ("/var/lib/cni/cache/results", True),
)
SINGLE_FILES = ("/opt/cni/bin/flannel",)
NETWORKS_DIR = "/var/lib/cni/networks"
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
    for name in fs.listdir(directory)[:MAX_ENTRIES]:
        entry = _entry(fs, f"{directory}/{name}", want_text)
        if entry is not None:
            out.append(entry)
    return out


def collect(fs: RootFS) -> tuple[list[dict[str, Any]], list[str]]:
    """Entries of every scanned path, and notes about paths that were refused."""
    entries: list[dict[str, Any]] = []
    notes: list[str] = []
    dirs = [*SCAN_DIRS, (NETWORKS_DIR, False)]
    try:
        dirs += [(f"{NETWORKS_DIR}/{n}", True) for n in fs.listdir(NETWORKS_DIR)]
    except InventoryError as exc:
        notes.append(str(exc))
    for directory, want_text in dirs:
        try:
            entries += _scan(fs, directory, want_text)
        except (InventoryError, OSError) as exc:
            notes.append(f"{directory}: not inspected: {exc}")
    for path in SINGLE_FILES:
        try:
            entry = _entry(fs, path, False)
        except (InventoryError, OSError) as exc:
            notes.append(f"{path}: not inspected: {exc}")
            continue
        if entry is not None:
            entries.append(entry)
    unique = {e["path"]: e for e in entries}
    return list(unique.values()), notes


def parse_env(text: str) -> dict[str, str]:
    """``KEY=value`` lines of subnet.env; raises ValueError on anything else."""
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
        elif name == "subnet.env":
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
