"""libcni's result cache, ``cniCacheV1`` format (test emulation only).

fact: flannel-footprint.md §4: ``<cacheDir>/results/<network>-<containerID>-<ifname>``,
JSON with ``"kind":"cniCacheV1"``; containerd's cacheDir is ``/var/lib/cni``. Field
order and encoding follow libcni ``cachedInfo`` (``config`` is the list's bytes, base64,
as Go marshals ``[]byte``); directory 0700, file 0600.
"""

from __future__ import annotations

import base64
import json
import os
from typing import TYPE_CHECKING, Any

from harness.emulation.runtime.gofmt import go_json_error, go_marshal

if TYPE_CHECKING:
    from harness.emulation.runtime.confsel import NetworkList
    from harness.emulation.runtime.libcni import RuntimeConf

__all__ = ["KIND", "CacheError", "add", "path_of", "remove", "result"]

KIND = "cniCacheV1"


class CacheError(Exception):
    """A cached result that cannot be decoded (libcni's wording in ``str()``)."""


def path_of(cache_dir: str, network: str, rt: RuntimeConf) -> str:
    """``<cacheDir>/results/<network>-<containerID>-<ifname>``."""
    return os.path.join(
        cache_dir, "results", f"{network}-{rt.container_id}-{rt.ifname}"
    )


def add(cache_dir: str, netlist: NetworkList, rt: RuntimeConf, result: Any) -> None:
    """libcni ``cacheAdd``: write the attachment's config, args and result."""
    cached: dict[str, Any] = {
        "kind": KIND,
        "containerId": rt.container_id,
        "config": base64.b64encode(netlist.raw).decode(),
        "ifName": rt.ifname,
        "networkName": netlist.name,
    }
    if rt.args:
        cached["cniArgs"] = [list(pair) for pair in rt.args]
    if rt.capability_args:
        cached["capabilityArgs"] = rt.capability_args
    if result is not None:
        cached["result"] = json.loads(go_marshal(result))
    path = path_of(cache_dir, netlist.name, rt)
    os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
    tmp = f"{path}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(json.dumps(cached, separators=(",", ":"), ensure_ascii=False))
    os.replace(tmp, path)


def result(cache_dir: str, network: str, rt: RuntimeConf) -> Any:
    """libcni ``getCachedResult``: None when absent, error when unreadable JSON."""
    try:
        with open(path_of(cache_dir, network, rt), "rb") as handle:
            data = handle.read()
    except OSError:
        return None
    problem = go_json_error(data)
    if problem is not None:
        raise CacheError(f"decoding version from network config: {problem}")
    cached = json.loads(data)
    if isinstance(cached, dict) and cached.get("kind") == KIND:
        return cached.get("result")
    return cached


def remove(cache_dir: str, network: str, rt: RuntimeConf) -> None:
    """libcni ``cacheDel`` (errors ignored)."""
    try:
        os.unlink(path_of(cache_dir, network, rt))
    except FileNotFoundError:
        pass
