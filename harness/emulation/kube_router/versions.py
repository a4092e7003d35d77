"""Per-version behaviour of kube-router's image (test emulation, pure data).

From ``kube-router-footprint.md`` (``/work/shared/reference/``), which read the
repository at HEAD 7c2c2779 (about v2.11.1); older tags are resolved by range where the
reference names the release a behaviour changed in. ``latest`` (the upstream manifest
names the image without a tag, §1) is the snapshot the reference read.

>>> kube_router_version("latest").tag, kube_router_version("v2.0.1").cni_install
('v2.11.1', False)
>>> kube_router_version("v2.5.0").common_chain
False
"""

from __future__ import annotations

import re
from dataclasses import dataclass

LATEST = "v2.11.1"  # the reference's snapshot (HEAD 7c2c2779, about v2.11.1)
_TAG = re.compile(r"^v?(\d+)\.(\d+)\.(\d+)")


def parse(tag: str) -> tuple[int, int, int]:
    """``v2.11.1`` -> (2, 11, 1); ValueError for ``latest`` and digests."""
    m = _TAG.match(tag)
    if m is None:
        raise ValueError(f"unparsable kube-router tag {tag!r}")
    return int(m[1]), int(m[2]), int(m[3])


@dataclass(frozen=True)
class KubeRouterVersion:
    """Behaviour switches of one kube-router image."""

    tag: str
    cni_install: bool  # §1: /usr/local/bin/cni-install exists since v2.1.0 (#1600)
    ipam_ranges: bool  # §2.1: v2.0+ writes ipam.ranges (v1.x: ipam.subnet)
    tunnel_names_v2: bool  # §2.2: tun-<sha256[:11]> since v2.0 (before: tun-<ip>)
    common_chain: bool  # §2.4: KUBE-NWPLCY-COMMON since about v2.6


def kube_router_version(tag: str) -> KubeRouterVersion:
    """The behaviour of the image tagged ``tag`` (``latest`` = :data:`LATEST`)."""
    try:
        version = parse(tag)
    except ValueError:
        tag, version = LATEST, parse(LATEST)
    return KubeRouterVersion(
        tag=tag,
        cni_install=version >= (2, 1, 0),
        ipam_ranges=version >= (2, 0, 0),
        tunnel_names_v2=version >= (2, 0, 0),
        common_chain=version >= (2, 6, 0),
    )
