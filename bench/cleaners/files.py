"""Files of the generated node (pure): Flannel's residue and a podman neighbour.

Flannel: the conflist, the plugin binary, subnet.env, and per pod the flannel
scratch file (flannel-footprint.md §3.3), the host-local lease and the libcni
result cache (§4). Foreign: a podman bridge conflist with its own host-local
store and result cache, and the shared upstream plugin binaries.
Relpaths are relative to the node's root; directories end with "/".
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from typing import TYPE_CHECKING

from harness.baseline import PODMAN_CONF  # podman v3's default network
from harness.flannel_install import cni_conf

if TYPE_CHECKING:
    from .spec import Pod

FileMap = dict[str, tuple[bytes, int]]

FLANNEL_CONFLIST = cni_conf()  # the manifest's cni-conf.json
SUBNET_ENV = (
    "FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET=10.244.0.1/24\n"
    "FLANNEL_MTU=1450\nFLANNEL_IPMASQ=true\n"
)


def _json(obj: object) -> bytes:
    return json.dumps(obj, indent=2, sort_keys=True).encode() + b"\n"


def _result(network: str, cid: str, ip: str, gw: str) -> bytes:
    return _json(
        {
            "kind": "cniCacheV1",
            "containerId": cid,
            "ifName": "eth0",
            "networkName": network,
            "result": {
                "cniVersion": "0.3.1",
                "ips": [{"version": "4", "address": ip, "gateway": gw}],
            },
        }
    )


def node_files(pods: Iterable[Pod]) -> tuple[FileMap, FileMap]:
    """(flannel files, foreign files) as relpath -> (content, mode)."""
    fl: FileMap = {
        "run/flannel/": (b"", 0o755),
        "var/lib/cni/flannel/": (b"", 0o700),
        "var/lib/cni/networks/cbr0/": (b"", 0o755),
        "etc/cni/net.d/10-flannel.conflist": (_json(FLANNEL_CONFLIST), 0o644),
        "opt/cni/bin/flannel": (b"\x7fELF-fake-flannel-cni-plugin\n", 0o755),
        "run/flannel/subnet.env": (SUBNET_ENV.encode(), 0o644),
        "var/lib/cni/networks/cbr0/lock": (b"", 0o600),
    }
    last = ""
    for p in pods:
        delegate = {
            "cniVersion": "0.3.1",
            "name": "cbr0",
            "type": "bridge",
            "hairpinMode": True,
            "isDefaultGateway": True,
            "isGateway": True,
            "ipMasq": False,
            "mtu": 1450,
            "ipam": {
                "type": "host-local",
                "ranges": [[{"subnet": "10.244.0.0/24"}]],
                "routes": [{"dst": "10.244.0.0/16"}],
            },
        }
        fl[f"var/lib/cni/flannel/{p.container_id}"] = (_json(delegate), 0o600)
        lease = f"{p.container_id}\r\neth0".encode()
        fl[f"var/lib/cni/networks/cbr0/{p.ip}"] = (lease, 0o644)
        res = _result("cbr0", p.container_id, f"{p.ip}/24", "10.244.0.1")
        fl[f"var/lib/cni/results/cbr0-{p.container_id}-eth0"] = (res, 0o600)
        last = p.ip
    if last:
        fl["var/lib/cni/networks/cbr0/last_reserved_ip.0"] = (last.encode(), 0o644)
    fo: FileMap = {
        "etc/cni/net.d/": (b"", 0o755),
        "opt/cni/bin/": (b"", 0o755),
        "var/lib/cni/networks/podman/": (b"", 0o755),
        "etc/cni/net.d/87-podman-bridge.conflist": (_json(PODMAN_CONF), 0o644),
        "var/lib/cni/networks/podman/lock": (b"", 0o600),
        "var/lib/cni/networks/podman/last_reserved_ip.0": (b"10.88.0.3", 0o644),
    }
    for name in ("bridge", "host-local", "loopback", "portmap"):
        fo[f"opt/cni/bin/{name}"] = (f"\x7fELF-fake-{name}\n".encode(), 0o755)
    for n in (2, 3):
        cid = hashlib.sha256(f"podman-{n}".encode()).hexdigest()
        ip = f"10.88.0.{n}"
        fo[f"var/lib/cni/networks/podman/{ip}"] = (f"{cid}\r\neth0".encode(), 0o644)
        res = _result("podman", cid, f"{ip}/16", "10.88.0.1")
        fo[f"var/lib/cni/results/podman-{cid}-eth0"] = (res, 0o600)
    return fl, fo


def digest(content: bytes) -> str:
    """Short content digest used in file identities."""
    return hashlib.sha256(content).hexdigest()[:16]


def identities(files: FileMap) -> set[tuple[str, ...]]:
    """File identities ``(relpath, digest)``; directories get digest "dir"."""
    return {
        (path, "dir" if path.endswith("/") else digest(content))
        for path, (content, _mode) in files.items()
    }
