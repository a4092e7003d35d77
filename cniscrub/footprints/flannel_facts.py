"""Facts about a node's Flannel installation, each gathered from several cited sources.

The cluster network and the local podCIDR come from ``/run/flannel/subnet.env``, the
``flanneld``-commented iptables rules, the nft ``flannel-ipv4/6`` tables and the
addresses of Flannel's devices; CNI confs say which bridge and network name Flannel
used and which other CNI still needs the bridge or portmap.

>>> from cniscrub.inventory.model import Inventory
>>> fp = gather(Inventory()); fp.fact("network_name").values
['cbr0']
"""

from __future__ import annotations

import ipaddress
import json
import re
from typing import Any

from cniscrub.footprints.model import Footprint
from cniscrub.inventory.model import Inventory, Resource

CONF_DIR = "/etc/cni/net.d/"
FLANNEL_CONF = "/etc/cni/net.d/10-flannel.conflist"
DEFAULT_BRIDGE = "cni0"  # bridge plugin default (flannel-footprint.md §3.2)
DEFAULT_NETWORK = "cbr0"  # kube-flannel.yml cni-conf.json name (§1.2)


def _net(value: str) -> str | None:
    try:
        return str(ipaddress.ip_network(value.strip(), strict=False))
    except ValueError:
        return None


def _problem(res: Resource) -> str:
    d = res.data
    if d.get("type") == "symlink":
        return f"a symlink to {d.get('link_target')!r}, not followed"
    return str(
        d.get("parse_error") or d.get("error") or f"a {d.get('type')}, not a file"
    )


def plugins_of(conf: dict[str, Any]) -> list[dict[str, Any]]:
    plugins = conf.get("plugins")
    if isinstance(plugins, list):
        return [p for p in plugins if isinstance(p, dict)]
    return [conf] if "type" in conf else []


def is_flannel_conf(conf: dict[str, Any]) -> bool:
    return any(p.get("type") == "flannel" for p in plugins_of(conf))


def confs(inv: Inventory) -> list[Resource]:
    """Files directly in /etc/cni/net.d (not the directory itself)."""
    return [r for r in inv.of("file") if r.key.startswith(CONF_DIR)]


def other_conf_usage(inv: Inventory) -> list[dict[str, Any]]:
    """For every non-Flannel conf: its bridges, whether it chains portmap, its name."""
    out = []
    for res in confs(inv):
        conf = res.data.get("conf")
        name = res.key.rsplit("/", 1)[-1]
        if conf is None or is_flannel_conf(conf) or name.startswith("."):
            continue
        bridges = [
            p.get("bridge", DEFAULT_BRIDGE)
            for p in plugins_of(conf)
            if p.get("type") == "bridge"
        ]
        portmap = any(p.get("type") == "portmap" for p in plugins_of(conf))
        out.append(
            {
                "path": res.key,
                "name": conf.get("name"),
                "bridges": bridges,
                "portmap": portmap,
            }
        )
    return out


def _from_conf(fp: Footprint, inv: Inventory) -> None:
    res = next((r for r in inv.of("file") if r.key == FLANNEL_CONF), None)
    conf = res.data.get("conf") if res else None
    if res is not None and conf is None:
        fp.warnings.append(
            f"{FLANNEL_CONF} is not usable ({_problem(res)});"
            " bridge and network name are not taken from it"
        )
    if conf and is_flannel_conf(conf):
        fp.fact("network_name").add(
            str(conf.get("name", DEFAULT_NETWORK)), FLANNEL_CONF
        )
        for p in plugins_of(conf):
            if p.get("type") == "flannel":
                raw = p.get("delegate")
                delegate: dict[str, Any] = raw if isinstance(raw, dict) else {}
                bridge = str(delegate.get("bridge", DEFAULT_BRIDGE))
                fp.fact("bridge").add(bridge, f"{FLANNEL_CONF} delegate")
            if p.get("type") == "portmap":
                fp.fact("portmap").add("yes", f"{FLANNEL_CONF} chains portmap")
    if not fp.fact("network_name").proven:
        fp.fact("network_name").add(DEFAULT_NETWORK, "kube-flannel.yml default name")


def _from_subnet_env(fp: Footprint, inv: Inventory) -> None:
    res = next((r for r in inv.of("file") if r.key == "/run/flannel/subnet.env"), None)
    if res is None:
        return
    env = res.data.get("env")
    if env is None:
        fp.warnings.append(f"/run/flannel/subnet.env not usable: {_problem(res)}")
        return
    for key, fact in (
        ("FLANNEL_NETWORK", "network4"),
        ("FLANNEL_IPV6_NETWORK", "network6"),
        ("FLANNEL_SUBNET", "podcidr4"),
        ("FLANNEL_IPV6_SUBNET", "podcidr6"),
    ):
        for value in str(env.get(key, "")).split(","):
            net = _net(value) if value else None
            if net:
                fp.fact(fact).add(net, f"subnet.env {key}")
            elif value:
                fp.warnings.append(f"subnet.env {key}={value[:60]!r} is not a network")


def _from_rules(fp: Footprint, inv: Inventory) -> None:
    for r in inv.of("ipt_rule"):
        d = r.data
        fam = d["family"]
        where = f"{d['backend']} {d['table']} {d['chain']} rule #{d['pos']}"
        if d["comment"] == "flanneld forward" and d["chain"] == "FLANNEL-FWD":
            for addr in (d["source"], d["dest"]):
                if addr and _net(addr):
                    fp.fact(f"network{fam}").add(str(_net(addr)), where)
        if d["comment"] == "flanneld masq" and d["jump"] == "RETURN":
            src, dst = d["source"], d["dest"]
            if (
                src
                and dst
                and _net(src)
                and _net(dst)
                and not (d["not_source"] or d["not_dest"])
            ):
                a, b = ipaddress.ip_network(src), ipaddress.ip_network(dst)
                small, big = (a, b) if a.prefixlen > b.prefixlen else (b, a)
                if small != big and small.subnet_of(big):  # type: ignore[arg-type]
                    fp.fact(f"podcidr{fam}").add(str(small), where)
                    fp.fact(f"network{fam}").add(str(big), where)


PREFIX = re.compile(r'"prefix": \{"addr": "([0-9a-f.:]+)", "len": (\d+)\}')


def _from_nft(fp: Footprint, inv: Inventory) -> None:
    for t in inv.of("nft_table"):
        if t.key not in ("ip flannel-ipv4", "ip6 flannel-ipv6"):
            continue
        fam = 4 if t.data["family"] == "ip" else 6
        for rule in t.data["rules"]:
            if rule["chain"] == "forward":
                for addr, plen in PREFIX.findall(rule["expr"]):
                    fp.fact(f"network{fam}").add(
                        f"{addr}/{plen}", f"nft {t.key} forward"
                    )


def _from_bridge(fp: Footprint, inv: Inventory) -> None:
    names = fp.fact("bridge").values or [DEFAULT_BRIDGE]
    index = {r.data["index"]: r.data["name"] for r in inv.of("link")}
    for a in inv.of("address"):
        if index.get(a.data["index"]) in names and not a.data["link_local"]:
            net = ipaddress.ip_interface(a.data["cidr"]).network
            fp.fact(f"bridge_net{net.version}").add(
                str(net), f"address of {index[a.data['index']]}"
            )


def gather(inv: Inventory) -> Footprint:
    fp = Footprint("flannel")
    _from_conf(fp, inv)
    _from_subnet_env(fp, inv)
    _from_rules(fp, inv)
    _from_nft(fp, inv)
    _from_bridge(fp, inv)
    fp.facts["other_confs"] = fp.fact("other_confs")
    for use in other_conf_usage(inv):
        fp.fact("other_confs").add(json.dumps(use, sort_keys=True), use["path"])
    return fp
