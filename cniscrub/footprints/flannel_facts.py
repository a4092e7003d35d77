"""Facts about a node's Flannel installation, each gathered from several cited sources.

The cluster network and the local podCIDR come from ``/run/flannel/subnet.env``, the
``flanneld``-commented iptables rules, the nft ``flannel-ipv4/6`` tables, the delegate
of Flannel's conf and the lease addresses of Flannel's devices; each value records the
kind of source it came from, and :mod:`.flannel_crosscheck` then settles them (values
that disagree narrow the claim). CNI confs say which bridge and network name Flannel
used, and which other conf still needs the bridge or portmap.

>>> from cniscrub.inventory.model import Inventory
>>> fp = gather(Inventory()); fp.fact("network_name").values
['cbr0']
"""

from __future__ import annotations

import ipaddress
import json
import re
from typing import Any

from cniscrub.footprints.flannel_confs import (
    DEFAULT_BRIDGE,
    FLANNEL_CONF,
    flannel_conf,
    other_conf_usage,
    plugins_of,
)
from cniscrub.footprints.flannel_crosscheck import settle
from cniscrub.footprints.model import Footprint
from cniscrub.inventory.model import Inventory, Resource

DEFAULT_NETWORK = "cbr0"  # kube-flannel.yml cni-conf.json name (§1.2)
LEASE_DEVICE = re.compile(r"^flannel(\.\d+|-v6\.\d+|-wg|-wg-v6|\.ipip|\d+)$")  # §2.3
SUBNET_ENV = "/run/flannel/subnet.env"


def _net(value: str) -> str | None:
    try:
        return str(ipaddress.ip_network(value.strip(), strict=False))
    except ValueError:
        return None


def problem(res: Resource) -> str:
    """Why a file's content cannot be used, in words."""
    d = res.data
    if d.get("type") == "symlink":
        return f"a symlink to {d.get('link_target')!r}, not followed"
    if d.get("type") in ("dir", "other"):
        what = "a directory" if d["type"] == "dir" else "a special file (FIFO, socket…)"
        return f"{what}, not a regular file"
    return str(d.get("parse_error") or d.get("error") or "unreadable")


def _from_delegate(fp: Footprint, delegate: dict[str, Any]) -> None:
    bridge = str(delegate.get("bridge", DEFAULT_BRIDGE))
    fp.fact("bridge").add(bridge, f"{FLANNEL_CONF} delegate", "conf")
    ipam = delegate.get("ipam") if isinstance(delegate.get("ipam"), dict) else {}
    assert isinstance(ipam, dict)
    for r in ipam.get("routes") or []:
        net = _net(str(r.get("dst", ""))) if isinstance(r, dict) else None
        if net and ipaddress.ip_network(net).prefixlen:
            fact = f"network{ipaddress.ip_network(net).version}"
            fp.fact(fact).add(net, f"{FLANNEL_CONF} delegate ipam route", "conf")


def _from_conf(fp: Footprint, inv: Inventory) -> None:
    res = next((r for r in inv.of("file") if r.key == FLANNEL_CONF), None)
    if res is not None and res.data.get("conf") is None:
        fp.warnings.append(
            f"{FLANNEL_CONF} is not usable ({problem(res)});"
            " bridge and network name are not taken from it"
        )
    conf = flannel_conf(inv)
    if conf:
        fp.fact("network_name").add(
            str(conf.get("name", DEFAULT_NETWORK)), FLANNEL_CONF
        )
        for p in plugins_of(conf):
            if p.get("type") == "flannel":
                raw = p.get("delegate")
                _from_delegate(fp, raw if isinstance(raw, dict) else {})
            if p.get("type") == "portmap":
                fp.fact("portmap").add("yes", f"{FLANNEL_CONF} chains portmap")
    if not fp.fact("network_name").proven:
        fp.fact("network_name").add(DEFAULT_NETWORK, "kube-flannel.yml default name")


def _from_subnet_env(fp: Footprint, inv: Inventory) -> None:
    res = next((r for r in inv.of("file") if r.key == SUBNET_ENV), None)
    if res is None:
        return
    env = res.data.get("env")
    if env is None:
        fp.warnings.append(f"{SUBNET_ENV} not usable: {problem(res)}")
        return
    for key, fact in (
        ("FLANNEL_NETWORK", "network4"),
        ("FLANNEL_IPV6_NETWORK", "network6"),
        ("FLANNEL_SUBNET", "podcidr4"),
        ("FLANNEL_IPV6_SUBNET", "podcidr6"),
    ):
        for value in str(env.get(key, "")).split(","):
            net = _net(value) if value else None
            if net and str(ipaddress.ip_network(net).version) == fact[-1]:
                fp.fact(fact).add(net, f"subnet.env {key}", "subnet.env")
            elif value:
                fp.warnings.append(f"subnet.env {key}={value[:60]!r} is not a network")


def _masq_return(fp: Footprint, d: dict[str, Any], where: str) -> None:
    src, dst = _net(d["source"] or ""), _net(d["dest"] or "")
    if not (src and dst) or d["not_source"] or d["not_dest"]:
        return
    a, b = ipaddress.ip_network(src), ipaddress.ip_network(dst)
    if a.version != b.version:
        return
    small, big = (a, b) if a.prefixlen > b.prefixlen else (b, a)
    if small != big and small.subnet_of(big):  # type: ignore[arg-type]
        fp.fact(f"podcidr{d['family']}").add(str(small), where, "iptables rules")
        fp.fact(f"network{d['family']}").add(str(big), where, "iptables rules")


def _from_rules(fp: Footprint, inv: Inventory) -> None:
    for r in inv.of("ipt_rule"):
        d = r.data
        where = f"{d['backend']} {d['table']} {d['chain']} rule #{d['pos']}"
        if d["comment"] == "flanneld forward" and d["chain"] == "FLANNEL-FWD":
            for addr in (d["source"], d["dest"]):
                if addr and _net(addr):
                    fp.fact(f"network{d['family']}").add(
                        str(_net(addr)), where, "iptables rules"
                    )
        if d["comment"] == "flanneld masq" and d["jump"] == "RETURN":
            _masq_return(fp, dict(d), where)


PREFIX = re.compile(r'"prefix": \{"addr": "([0-9a-f.:]+)", "len": (\d+)\}')


def _from_nft(fp: Footprint, inv: Inventory) -> None:
    for t in inv.of("nft_table"):
        if t.key not in ("ip flannel-ipv4", "ip6 flannel-ipv6"):
            continue
        fam = 4 if t.data["family"] == "ip" else 6
        for rule in t.data["rules"]:
            if rule["chain"] == "forward":
                for addr, plen in PREFIX.findall(rule["expr"]):
                    net = f"{addr}/{plen}"
                    fp.fact(f"network{fam}").add(
                        net, f"nft {t.key} forward", "nft table"
                    )


def _from_addresses(fp: Footprint, inv: Inventory) -> None:
    """Lease addresses of Flannel-named devices and the addresses of the bridge its
    conf names: checks for the podCIDR and network facts."""
    names = fp.fact("bridge").values or [DEFAULT_BRIDGE]
    index = {r.data["index"]: r.data["name"] for r in inv.of("link")}
    for a in inv.of("address"):
        name = index.get(a.data["index"])
        if a.data["link_local"] or name is None:
            continue
        iface = ipaddress.ip_interface(a.data["cidr"])
        if name in names:
            fp.fact(f"bridge_net{iface.version}").add(
                str(iface.network), f"address of {name}"
            )
        elif LEASE_DEVICE.match(name) and iface.network.num_addresses == 1:
            fp.fact(f"lease{iface.version}").add(str(iface.ip), f"address of {name}")


def gather(inv: Inventory) -> Footprint:
    fp = Footprint("flannel")
    _from_conf(fp, inv)
    _from_subnet_env(fp, inv)
    _from_rules(fp, inv)
    _from_nft(fp, inv)
    _from_addresses(fp, inv)
    settle(fp)
    fp.facts["other_confs"] = fp.fact("other_confs")
    for use in other_conf_usage(inv):
        fp.fact("other_confs").add(json.dumps(use, sort_keys=True), use["path"])
    return fp
