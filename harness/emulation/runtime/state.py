"""Node-local paths and sandbox records of the runtime emulation (test emulation only).

Every path can be overridden by environment (tests run the CLI outside a real node):
``CNISCRUB_RUNTIME_CONF_DIR`` (/etc/cni/net.d), ``CNISCRUB_RUNTIME_BIN_DIR``
(/opt/cni/bin, colon-separated list allowed), ``CNISCRUB_RUNTIME_CACHE_DIR``
(/var/lib/cni), ``CNISCRUB_RUNTIME_STATE_DIR`` (/var/lib/cniscrub-runtime),
``CNISCRUB_RUNTIME_NETNS_DIR`` (/run/netns). Records: ``<state>/sandboxes/<id>.json``.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any

from harness.emulation.runtime import confsel
from harness.emulation.runtime import wording as _wording

__all__ = [
    "ENV_PREFIX",
    "Paths",
    "list_records",
    "read_record",
    "remove_record",
    "write_record",
]

ENV_PREFIX = "CNISCRUB_RUNTIME_"


@dataclass(frozen=True)
class Paths:
    """Where the emulated runtime reads and writes inside a node."""

    conf_dir: str = "/etc/cni/net.d"
    bin_dirs: tuple[str, ...] = ("/opt/cni/bin",)
    cache_dir: str = "/var/lib/cni"
    state_dir: str = "/var/lib/cniscrub-runtime"
    netns_dir: str = "/run/netns"

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Paths:
        """Defaults overridden by ``CNISCRUB_RUNTIME_*`` variables."""
        src = os.environ if env is None else env
        base = cls()

        def get(key: str, default: str) -> str:
            return src.get(ENV_PREFIX + key) or default

        bins = get("BIN_DIR", ":".join(base.bin_dirs))
        return cls(
            conf_dir=get("CONF_DIR", base.conf_dir),
            bin_dirs=tuple(p for p in bins.split(":") if p),
            cache_dir=get("CACHE_DIR", base.cache_dir),
            state_dir=get("STATE_DIR", base.state_dir),
            netns_dir=get("NETNS_DIR", base.netns_dir),
        )

    def cni_cache_dir(self, runtime: str) -> str:
        """libcni CacheDir: dockershim uses kubelet's ``--cni-cache-dir`` default.

        fact: flannel-footprint.md §4 (dockershim: ``/var/lib/cni/cache/results/``).
        """
        if runtime == "dockershim":
            return os.path.join(self.cache_dir, "cache")
        return self.cache_dir

    def plugin_available(self, plugin: str) -> bool:
        """Whether a plugin binary exists in one of the bin dirs."""
        return any(os.path.isfile(os.path.join(d, plugin)) for d in self.bin_dirs)

    def conf_listing(self) -> list[tuple[str, bytes | None]]:
        """``(name, content)`` for the conf dir's candidate files (libcni ConfFiles)."""
        try:
            names = os.listdir(self.conf_dir)
        except FileNotFoundError:
            return []
        listing: list[tuple[str, bytes | None]] = []
        for name in names:
            if not name.endswith(confsel.EXTENSIONS):
                continue
            path = os.path.join(self.conf_dir, name)
            if os.path.isdir(path) and not os.path.islink(path):
                continue
            try:
                with open(path, "rb") as handle:
                    listing.append((name, handle.read()))
            except OSError:
                listing.append((name, None))
        return listing

    def load(self, runtime: str) -> confsel.Selected | confsel.LoadError:
        """Run the runtime's config selection on the conf dir."""
        return confsel.select_network(
            self.conf_listing(),
            runtime,
            conf_dir=self.conf_dir,
            plugin_available=self.plugin_available,
        )


def _record_path(paths: Paths, sandbox_id: str) -> str:
    return os.path.join(paths.state_dir, "sandboxes", f"{sandbox_id}.json")


def write_record(paths: Paths, record: dict[str, Any]) -> str:
    """Atomically write a sandbox record; return its path."""
    path = _record_path(paths, record["sandbox_id"])
    os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
    tmp = f"{path}.tmp"
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump(record, handle, indent=1, sort_keys=True)
    os.replace(tmp, path)
    return path


def read_record(paths: Paths, sandbox_id: str) -> dict[str, Any] | None:
    """The record of ``sandbox_id`` or None."""
    try:
        with open(_record_path(paths, sandbox_id), encoding="utf-8") as handle:
            data = json.load(handle)
    except FileNotFoundError:
        return None
    return data if isinstance(data, dict) else None


def remove_record(paths: Paths, sandbox_id: str) -> None:
    """Delete a record if present."""
    try:
        os.unlink(_record_path(paths, sandbox_id))
    except FileNotFoundError:
        pass


def list_records(paths: Paths) -> list[dict[str, Any]]:
    """All sandbox records, sorted by id."""
    directory = os.path.join(paths.state_dir, "sandboxes")
    try:
        names = sorted(n for n in os.listdir(directory) if n.endswith(".json"))
    except FileNotFoundError:
        return []
    records = [read_record(paths, name[: -len(".json")]) for name in names]
    return [r for r in records if r is not None]


def status(paths: Paths, runtime: str) -> dict[str, Any]:
    """The runtime's NetworkReady condition as kubelet would report it."""
    selection = paths.load(runtime)
    if isinstance(selection, confsel.LoadError):
        return {
            "ready": False,
            "reason": "NetworkPluginNotReady",
            "message": _wording.network_not_ready(runtime, paths.conf_dir),
            "runtime_message": _wording.runtime_not_ready(runtime, paths.conf_dir),
            "load_error": selection.message,
            "load_status": selection.load_status,
            "skipped": selection.skipped,
        }
    return {
        "ready": True,
        "reason": "",
        "message": "",
        "network": selection.network.name,
        "conf_file": selection.network.source,
        "skipped": selection.skipped,
    }


def list_sandboxes(paths: Paths) -> dict[str, Any]:
    """Known sandboxes (the runtime's view)."""
    keys = ("sandbox_id", "pod", "netns", "network", "ips", "state", "runtime")
    return {
        "sandboxes": [
            {**{k: r.get(k) for k in keys}, "netns_exists": os.path.exists(r["netns"])}
            for r in list_records(paths)
        ]
    }


def dumps(obj: dict[str, Any]) -> str:
    """One-line JSON for the CLI."""
    return json.dumps(obj, sort_keys=False, separators=(",", ":"))
