"""The CNI config kube-router rewrites at start (test emulation; pure but for
:func:`update`).

kube-router-footprint.md §2.1 / §3.1: the file named by ``KUBE_ROUTER_CNI_CONF_FILE``
(default ``/etc/cni/net.d/10-kuberouter.conf``) must exist, else the routes controller
fails with ``CNI conf file … does not exist.``; each pod CIDR is added to the bridge
plugin's ``ipam.ranges`` unless present (v1.x wrote ``ipam.subnet``; v2.0+ folds a
legacy ``subnet`` into ``ranges``), the bridge ``mtu`` is set (auto-mtu), and the file
is written back as one compact JSON line with Go's sorted map keys, mode 0644.

>>> conf = {"cniVersion": "0.3.0", "name": "mynet", "plugins": [{"name": "kubernetes",
...     "type": "bridge", "bridge": "kube-bridge", "isDefaultGateway": True,
...     "ipam": {"type": "host-local"}}]}
>>> render(rewrite(conf, ["10.244.1.0/24"], 1500)).decode()  # the §2.1 example
'{"cniVersion":"0.3.0","name":"mynet","plugins":[{"bridge":"kube-bridge","ipam":{"ranges":[[{"subnet":"10.244.1.0/24"}]],"type":"host-local"},"isDefaultGateway":true,"mtu":1500,"name":"kubernetes","type":"bridge"}]}'
"""

from __future__ import annotations

import copy
import json
import os
from typing import Any

from harness.emulation.runtime.gofmt import go_marshal

DEFAULT_CONF_FILE = "/etc/cni/net.d/10-kuberouter.conf"  # §1: the binary's default
CONF_FILE_ENV = "KUBE_ROUTER_CNI_CONF_FILE"


class ConfError(RuntimeError):
    """The CNI conf file is missing or unusable (the controller cannot start)."""


def bridge_plugin(conf: dict[str, Any]) -> dict[str, Any]:
    """The ``type: bridge`` entry of a conflist, or a single ``.conf`` itself."""
    for plugin in conf.get("plugins") or [conf]:
        if isinstance(plugin, dict) and plugin.get("type") == "bridge":
            return plugin
    raise ConfError("no bridge plugin in the CNI conf")


def _add_ranges(ipam: dict[str, Any], cidrs: list[str]) -> None:
    ranges: list[list[dict[str, Any]]] = ipam.setdefault("ranges", [])
    legacy = ipam.pop("subnet", None)
    wanted = ([legacy] if legacy else []) + list(cidrs)
    present = {r.get("subnet") for rs in ranges for r in rs}
    for cidr in wanted:
        if cidr not in present:
            ranges.append([{"subnet": cidr}])
            present.add(cidr)


def rewrite(
    conf: dict[str, Any], cidrs: list[str], mtu: int | None, ranges: bool = True
) -> dict[str, Any]:
    """A copy of ``conf`` with the pod CIDRs and MTU inserted (§2.1)."""
    out = copy.deepcopy(conf)
    bridge = bridge_plugin(out)
    ipam = bridge.setdefault("ipam", {})
    if ranges:
        _add_ranges(ipam, cidrs)
    elif cidrs:
        ipam["subnet"] = cidrs[0]  # v1.x InsertPodCidrInCniSpec
    if mtu:
        bridge["mtu"] = mtu
    return out


def render(conf: dict[str, Any]) -> bytes:
    """One compact line, sorted keys (Go ``json.Marshal`` of a map)."""
    return go_marshal(conf)


def update(path: str, cidrs: list[str], mtu: int | None, ranges: bool = True) -> bytes:
    """Read ``path``, insert CIDRs and MTU, write it back (0644); the new content."""
    if not os.path.exists(path):
        raise ConfError(f"CNI conf file {path} does not exist.")
    try:
        with open(path, "rb") as f:
            conf = json.loads(f.read())
    except ValueError as e:
        raise ConfError(f"failed to parse CNI conf file {path}: {e}") from e
    data = render(rewrite(conf, cidrs, mtu, ranges))
    with open(path, "wb") as f:
        f.write(data)
    os.chmod(path, 0o644)
    return data
