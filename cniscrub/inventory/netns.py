"""Inventory of named network namespaces (pod sandboxes) and their netns ids.

The id is what a veth's ``IFLA_LINK_NETNSID`` points at, so a host-side veth on the
Flannel bridge can be mapped to its pod sandbox (``/run/netns/cni-…``).

>>> parse([{"path": "/run/netns/cni-1234", "nsid": 0}])[0].data["name"]
'cni-1234'
"""

from __future__ import annotations

import os
from typing import Any

from cniscrub.errors import InventoryError
from cniscrub.inventory.model import Resource
from cniscrub.node.rootfs import RootFS

NETNS_DIRS = ("/run/netns", "/var/run/netns")


def _nsid(ipr: Any, path: str) -> int | None:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        return None
    try:
        got = ipr.get_netnsid(fd=fd)
    except Exception:  # a stale bind mount or a non-netns file
        return None
    finally:
        os.close(fd)
    nsid = got.get("nsid") if got else None
    # NETNSA_NSID is -1 (u32 0xffffffff as decoded) when no id is assigned
    return nsid if isinstance(nsid, int) and 0 <= nsid < 0x80000000 else None


def collect(fs: RootFS) -> list[dict[str, Any]]:
    from pyroute2.iproute.linux import IPRoute

    with IPRoute() as ipr:
        return _collect(fs, ipr)


def _collect(fs: RootFS, ipr: Any) -> list[dict[str, Any]]:
    seen: set[str] = set()
    out = []
    places = [(fs, base) for base in NETNS_DIRS]
    if fs.root != "/":
        places.append((RootFS("/"), "/run/netns"))  # the running node's own view
    for where, base in places:
        try:
            names = where.listdir(base)
        except (OSError, InventoryError):
            continue
        for name in names:
            real = os.path.realpath(where.host_path(f"{base}/{name}"))
            if real in seen:
                continue
            seen.add(real)
            out.append({"path": real, "nsid": _nsid(ipr, real)})
    return out


def parse(raw: list[dict[str, Any]]) -> list[Resource]:
    """Pure: netns entries -> ``netns`` resources keyed by path."""
    return [
        Resource(
            "netns",
            e["path"],
            {"path": e["path"], "name": os.path.basename(e["path"]), "nsid": e["nsid"]},
        )
        for e in raw
    ]
