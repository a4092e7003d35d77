"""Positive ownership of links, routes and policy rules by kube-router.

kube-router-footprint.md §2.2, §2.3: ``kube-bridge`` (a bridge of that name, unless
another CNI conf still uses it) with its veths; IPIP tunnels ``tun-<11 hex>`` whose name
is sha256 of their own remote address (``tun-<ip>`` before v2.0); the service proxy's
``kube-dummy-if``; main-table routes with ``proto 17`` (kube-router's originator;
iproute2 has no name for it); the rule ``from <podCIDR> lookup 77`` when its source is
proven to be a kube-router pod CIDR. Addresses and routes on owned devices (the
connected pod route, table 77's per-tunnel routes) go with the device.

>>> tunnel_reason({"name": "tun-fc469c2a7f5", "kind": "ipip",
...                "tunnel": {"remote": "192.168.56.11"}})
'tunnel tun-fc469c2a7f5 named after its remote 192.168.56.11 (§2.2)'
"""

from __future__ import annotations

import hashlib
from typing import Any

from cniscrub.footprints.attachments import covers_index, pod_of
from cniscrub.footprints.kube_router_facts import BRIDGE, covers_pod_cidr, others_using
from cniscrub.footprints.model import Claim, Footprint, LeftAlone
from cniscrub.inventory.model import Inventory, Resource

PROTO = 17  # §2.3 ZebraOriginator = 0x11
TABLE = 77  # §2.3
TUNNEL_KINDS = ("ipip", "ip6tnl", "fou", "gue")
DUMMIES = {"kube-dummy-if": "dummy"}  # §2.2 (service proxy only)


def tunnel_names(remote: str) -> set[str]:
    """§2.2 GenerateTunnelName (v2.0+) and the pre-v2.0 form, for ``remote``."""
    bare = remote.replace(".", "").replace(":", "")
    old = f"tun-{bare}" if len(bare) < 12 else f"tun{bare}"
    return {"tun-" + hashlib.sha256(bare.encode()).hexdigest()[:11], old}


def tunnel_reason(d: dict[str, Any]) -> str | None:
    remote = str((d.get("tunnel") or {}).get("remote") or "")
    if d["kind"] in TUNNEL_KINDS and remote and d["name"] in tunnel_names(remote):
        return f"tunnel {d['name']} named after its remote {remote} (§2.2)"
    return None


def _bridge(fp: Footprint, inv: Inventory, idx: dict[int, list[Resource]]) -> None:
    name = (fp.fact("bridge").values or [BRIDGE])[0]
    links = inv.of("link")
    bridge = next(
        (r for r in links if r.key == name and r.data["kind"] == "bridge"), None
    )
    if bridge is None:
        return
    users = others_using(fp, "bridges", name)
    if users:
        why = f"still used by {', '.join(users)}"
        fp.left_alone.append(LeftAlone(f"bridge {name} and its ports", why))
        return
    ev = [f"bridge {name} is made by kube-router's setupKubeBridge (§2.2)"]
    ev += [s for s in fp.fact("bridge").sources if s.startswith(f"{name} ")]
    ports = [r for r in links if r.data["master"] == bridge.data["index"]]
    extra = {"port_macs": [str(r.data["mac"]) for r in ports]}
    fp.claims.append(
        Claim(bridge, f"bridge {name}", ev, idx.get(bridge.data["index"], []), extra)
    )
    for veth in (r for r in ports if r.data["kind"] == "veth"):
        fp.attached_pods.append(pod_of(inv, dict(veth.data)))
        fp.claims.append(
            Claim(veth, f"veth {veth.key} on {name}", [f"port of kube-router's bridge {name}"],
                  idx.get(veth.data["index"], []))
        )  # fmt: skip


def match_links(fp: Footprint, inv: Inventory) -> set[int]:
    idx = covers_index(inv)
    for r in inv.of("link"):
        d = dict(r.data)
        why = tunnel_reason(d)
        if why is None and DUMMIES.get(r.key) == d["kind"]:
            why = f"{r.key} holds kube-router's service IPs (§2.2)"
        if why:
            label = f"{d['kind']} device {r.key}"
            fp.claims.append(Claim(r, label, [why], idx.get(d["index"], [])))
        elif r.key.startswith("tun-") and d["kind"] in TUNNEL_KINDS:
            why = "its name is not the one kube-router derives from its remote"
            fp.left_alone.append(LeftAlone(f"link {r.key} ({d['kind']})", why))
    _bridge(fp, inv, idx)
    return {c.resource.data["index"] for c in fp.claims if c.resource.kind == "link"}


def match_routes(fp: Footprint, inv: Inventory, owned_links: set[int]) -> None:
    for r in inv.of("route"):
        d = r.data
        if d["oif"] in owned_links or d["proto"] != PROTO or d["table"] != 254:
            continue
        if d["type"] != "unicast" or not d["dst"] or d["dst"] == "default":
            continue
        ev = ["proto 17: kube-router's injected route (§2.3)"]
        ev += covers_pod_cidr(fp, d["dst"])
        label = f"route {d['dst']} via {d['gateway'] or '-'} proto 17"
        fp.claims.append(Claim(r, label, ev))


def _simple(d: dict[str, Any]) -> bool:
    """Only ``from <src> lookup <table>``: no other selector, not inverted."""
    others = ("dst", "fwmark", "iif", "oif", "goto")
    return not any(d.get(k) for k in others) and not d["invert"] and not d["tos"]


def match_rules(fp: Footprint, inv: Inventory) -> None:
    for r in inv.of("ip_rule"):
        d = r.data
        if d["table"] != TABLE or d["action"] != "to_tbl" or not d["src"]:
            continue
        label = f"rule {d['priority']}: from {d['src']} lookup {TABLE}"
        proof = covers_pod_cidr(fp, d["src"])
        if _simple(dict(d)) and proof:
            why = "kube-router's overlay policy rule (§2.3)"
            fp.claims.append(Claim(r, label, [why, *proof]))
        else:
            why = "table 77, but its source is not proven a kube-router pod CIDR"
            fp.left_alone.append(LeftAlone(label, why))
