"""Facts about a node's kube-router installation, each from a cited source.

kube-router-footprint.md: the conflist (``/etc/cni/net.d/10-kuberouter.conflist``, or
the binary's default ``10-kuberouter.conf``, §1) names the bridge (``kube-bridge``) and
the network (``mynet``, the host-local store's directory, §2.1) and holds this node's
pod CIDR in ``ipam.ranges`` (or ``ipam.subnet`` before v2.0); ``kube-bridge`` carries
``<podCIDR>.1`` once a pod existed (§2.2); the ipset ``kube-router-pod-subnets`` holds
every node's pod CIDR (§2.5). Other CNI confs say which bridge, network name or
portmap they still need.

>>> from cniscrub.inventory.model import Inventory
>>> fp = gather(Inventory()); fp.fact("network_name").values, fp.fact("bridge").values
([], [])
"""

from __future__ import annotations

import ipaddress
import json
from typing import Any

from cniscrub.footprints.model import Footprint
from cniscrub.inventory.model import Inventory, Resource

CONF_DIR = "/etc/cni/net.d/"
CONFS = ("/etc/cni/net.d/10-kuberouter.conflist", "/etc/cni/net.d/10-kuberouter.conf")
BRIDGE = "kube-bridge"  # §2.2 (also the manifests' cni-conf.json)
NETWORK = "mynet"  # §1 cni-conf.json name
POD_SUBNETS = ("kube-router-pod-subnets", "inet6:kube-router-pod-subnets")  # §2.5


def plugins_of(conf: dict[str, Any]) -> list[dict[str, Any]]:
    plugins = conf.get("plugins")
    if isinstance(plugins, list):
        return [p for p in plugins if isinstance(p, dict)]
    return [conf] if "type" in conf else []


def _cidrs(ipam: dict[str, Any]) -> list[str]:
    out = [str(ipam["subnet"])] if ipam.get("subnet") else []
    for rs in ipam.get("ranges") or []:
        out += [str(r["subnet"]) for r in rs if isinstance(r, dict) and r.get("subnet")]
    return out


def _net(value: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    try:
        return ipaddress.ip_network(value, strict=False)
    except ValueError:
        return None


def _from_conf(fp: Footprint, inv: Inventory) -> None:
    for res in inv.of("file"):
        if res.key not in CONFS:
            continue
        conf = res.data.get("conf")
        if not isinstance(conf, dict):
            fp.warnings.append(f"{res.key} is not usable: bridge and network default")
            continue
        bridges = [p for p in plugins_of(conf) if p.get("type") == "bridge"]
        fp.fact("network_name").add(str(conf.get("name", NETWORK)), res.key)
        for p in bridges:
            fp.fact("bridge").add(str(p.get("bridge", "cni0")), res.key)
            ipam = p.get("ipam") if isinstance(p.get("ipam"), dict) else {}
            for cidr in _cidrs(ipam or {}):
                net = _net(cidr)
                if net is not None:
                    fp.fact(f"podcidr{net.version}").add(str(net), f"{res.key} ipam")


def _from_bridge(fp: Footprint, inv: Inventory) -> None:
    names = fp.fact("bridge").values or [BRIDGE]
    index = {r.data["index"]: r.data["name"] for r in inv.of("link")}
    for a in inv.of("address"):
        name = index.get(a.data["index"])
        if name in names and not a.data["link_local"]:
            net = ipaddress.ip_interface(a.data["cidr"]).network
            fp.fact(f"podcidr{net.version}").add(str(net), f"address of {name}")


def _from_ipsets(fp: Footprint, inv: Inventory) -> None:
    for s in inv.of("ipset"):
        if s.key not in POD_SUBNETS:
            continue
        for m in s.data["members"]:
            net = _net(str(m["entry"]))
            if net is not None:
                fp.fact(f"pod_subnets{net.version}").add(str(net), f"ipset {s.key}")


def other_confs(inv: Inventory) -> list[dict[str, Any]]:
    """Every other CNI conf: its bridges, network name and whether it uses portmap."""
    out = []
    for res in inv.of("file"):
        conf = res.data.get("conf")
        name = res.key.rsplit("/", 1)[-1]
        if not res.key.startswith(CONF_DIR) or res.key in CONFS or name[:1] == ".":
            continue
        if not isinstance(conf, dict):
            continue
        plugins = plugins_of(conf)
        bridges = [
            str(p.get("bridge", "cni0")) for p in plugins if p.get("type") == "bridge"
        ]
        out.append({"path": res.key, "name": conf.get("name"), "bridges": bridges})
    return out


def gather(inv: Inventory) -> Footprint:
    fp = Footprint("kube-router")
    _from_conf(fp, inv)
    _from_bridge(fp, inv)
    _from_ipsets(fp, inv)
    fp.facts["other_confs"] = fp.fact("other_confs")
    for use in other_confs(inv):
        fp.fact("other_confs").add(json.dumps(use, sort_keys=True), use["path"])
    return fp


def others_using(fp: Footprint, what: str, value: str) -> list[str]:
    """Paths of other CNI confs whose ``what`` (``bridges`` or ``name``) is ``value``."""
    users = [json.loads(v) for v in fp.fact("other_confs").values]
    hits = [u for u in users if value in (u[what] if what == "bridges" else [u[what]])]
    return [u["path"] for u in hits]


def covers_pod_cidr(fp: Footprint, cidr: str | None) -> list[str]:
    """The sources proving ``cidr`` is a kube-router pod CIDR (empty: unproven)."""
    net = _net(cidr or "")
    if net is None:
        return []
    out = []
    for name in (f"podcidr{net.version}", f"pod_subnets{net.version}"):
        fact = fp.fact(name)
        if str(net) in fact.values:
            out += [s for s in fact.sources if s.startswith(f"{net} ")]
    return out


def resource_of(inv: Inventory, kind: str, key: str) -> Resource | None:
    return next((r for r in inv.of(kind) if r.key == key), None)
