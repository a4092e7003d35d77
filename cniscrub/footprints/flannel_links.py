"""Positive ownership of links and routes by Flannel: by kind and attributes, any VNI.

Devices: vxlan ``flannel.<VNI>``/``flannel-v6.<VNI>`` whose VNI matches the name,
wireguard ``flannel-wg``/``flannel-wg-v6``, tun ``flannel<N>``, ipip ``flannel.ipip``
(flannel-footprint.md §2.3), and the bridge Flannel's conf delegates to (``cni0``) with
its veths -- unless another CNI conf still uses that bridge. Addresses and routes on
those devices are listed with the device (its permanent neighbours and FDB entries are
read and backed up at apply time: cniscrub.apply.link_state); host-gw routes to peers'
podCIDRs and the local blackhole route are claimed on their own.

>>> device_reason({"name": "flannel.4096", "kind": "vxlan", "vxlan": {"id": 4096}})
'vxlan device flannel.4096 with VNI 4096 (§2.3)'
"""

from __future__ import annotations

import ipaddress
import json
import re
from typing import Any

from cniscrub.footprints.model import Claim, Footprint, LeftAlone
from cniscrub.inventory.model import Inventory, Resource

VXLAN = re.compile(r"^flannel(-v6)?\.(\d+)$")
WIREGUARD = ("flannel-wg", "flannel-wg-v6")
TUN = re.compile(r"^flannel\d+$")


def device_reason(d: dict[str, Any]) -> str | None:
    name, kind = d["name"], d["kind"]
    m = VXLAN.match(name)
    if m and kind == "vxlan" and d.get("vxlan", {}).get("id") == int(m.group(2)):
        return f"vxlan device {name} with VNI {m.group(2)} (§2.3)"
    if name in WIREGUARD and kind == "wireguard":
        return f"wireguard device {name} (§2.3)"
    if TUN.match(name) and kind == "tun":
        return f"udp backend tun device {name} (§2.3)"
    if name == "flannel.ipip" and kind == "ipip":
        return "ipip backend device flannel.ipip (§2.3)"
    return None


def covers_index(inv: Inventory) -> dict[int, list[Resource]]:
    """Per ifindex, what goes away with the device and the plan lists (addresses,
    routes outside the local table), built in ONE pass over each kind instead of one
    pass per device."""
    out: dict[int, list[Resource]] = {}
    for a in inv.of("address"):
        out.setdefault(a.data["index"], []).append(a)
    for r in inv.of("route"):
        if r.data["type"] != "local" and r.data["table"] != 255:
            out.setdefault(r.data["oif"], []).append(r)
    return out


def _covers(idx: dict[int, list[Resource]], index: int) -> list[Resource]:
    return list(idx.get(index, []))


def _bridge_users(fp: Footprint, bridge: str) -> list[str]:
    users = [json.loads(v) for v in fp.fact("other_confs").values]
    return [u["path"] for u in users if bridge in u["bridges"]]


def _bridge_evidence(fp: Footprint, bridge: Resource) -> list[str]:
    ev = [s for s in fp.fact("bridge").sources if s.startswith(bridge.key)]
    for fam in (4, 6):
        for net in fp.fact(f"bridge_net{fam}").values:
            for cluster in fp.fact(f"network{fam}").values:
                if ipaddress.ip_network(net).subnet_of(ipaddress.ip_network(cluster)):  # type: ignore[arg-type]
                    ev.append(f"its subnet {net} lies in the cluster network {cluster}")
    return ev


def _pod_name(inv: Inventory, netns: str) -> str | None:
    """``namespace/name`` from a libcni result cache that records this netns."""
    for f in inv.of("file"):
        conf = f.data.get("conf")
        if "/results/" not in f.key or not isinstance(conf, dict):
            continue
        if (
            conf.get("netns")
            and conf["netns"].rsplit("/", 1)[-1] == netns.rsplit("/", 1)[-1]
        ):
            args = dict(a for a in conf.get("cniArgs") or [] if len(a) == 2)
            if args.get("K8S_POD_NAME"):
                return f"{args.get('K8S_POD_NAMESPACE', '?')}/{args['K8S_POD_NAME']}"
    return None


def _pod_of(inv: Inventory, veth: dict[str, Any]) -> dict[str, Any]:
    ns = next(
        (
            n.data
            for n in inv.of("netns")
            if n.data["nsid"] is not None and n.data["nsid"] == veth["peer_netnsid"]
        ),
        None,
    )
    return {
        "veth": veth["name"],
        "pod": _pod_name(inv, ns["path"]) if ns else None,
        "netns": ns["path"] if ns else None,
        "netns_name": ns["name"] if ns else None,
        "peer_index": veth["peer"],
    }


def _match_bridge(
    fp: Footprint,
    inv: Inventory,
    links: list[Resource],
    idx: dict[int, list[Resource]],
) -> None:
    name = (fp.fact("bridge").values or ["cni0"])[0]
    bridge = next(
        (r for r in links if r.key == name and r.data["kind"] == "bridge"), None
    )
    if bridge is None:
        return
    users = _bridge_users(fp, name)
    evidence = _bridge_evidence(fp, bridge)
    if users or not evidence:
        why = (
            f"still used by {', '.join(users)}"
            if users
            else (
                "no evidence that Flannel's conf created it (conf gone, subnet unknown)"
            )
        )
        fp.left_alone.append(LeftAlone(f"bridge {name} and its ports", why))
        return
    ports = [r for r in links if r.data["master"] == bridge.data["index"]]
    fp.claims.append(
        Claim(
            bridge,
            f"bridge {name}",
            evidence,
            _covers(idx, bridge.data["index"]),
            # a bridge whose MAC came from a port gets it derived again on restore
            {"port_macs": [str(r.data["mac"]) for r in ports]},
        )
    )
    for veth in links:
        if veth.data["master"] == bridge.data["index"] and veth.data["kind"] == "veth":
            pod = _pod_of(inv, dict(veth.data))
            fp.attached_pods.append(pod)
            fp.claims.append(
                Claim(
                    veth,
                    f"veth {veth.key} on {name}",
                    [f"port of Flannel's bridge {name}"],
                    _covers(idx, veth.data["index"]),
                )
            )


def match_links(fp: Footprint, inv: Inventory) -> set[int]:
    links = inv.of("link")
    idx = covers_index(inv)
    for r in links:
        reason = device_reason(dict(r.data))
        if reason:
            fp.claims.append(
                Claim(
                    r,
                    f"{r.data['kind']} device {r.key}",
                    [reason],
                    _covers(idx, r.data["index"]),
                )
            )
        elif r.key.startswith("flannel"):
            fp.left_alone.append(
                LeftAlone(
                    f"link {r.key} ({r.data['kind']})",
                    "name looks like Flannel's but kind/VNI do not",
                )
            )
        elif r.key == "tunl0" and any(x.key == "flannel.ipip" for x in links):
            fp.left_alone.append(
                LeftAlone("link tunl0", "created by the kernel ipip module")
            )
    _match_bridge(fp, inv, links, idx)
    return {c.resource.data["index"] for c in fp.claims if c.resource.kind == "link"}


def _route_claim(fp: Footprint, d: dict[str, Any]) -> str | None:
    fam, dst = d["family"], d["dst"]
    if not dst or dst == "default":
        return None
    net = ipaddress.ip_network(dst)
    pods = [ipaddress.ip_network(p) for p in fp.fact(f"podcidr{fam}").values]
    if d["type"] == "blackhole" and net in pods:
        return f"blackhole for the local podCIDR {dst} (--ip-blackhole-route, §2.3)"
    if d["type"] != "unicast" or not d["gateway"] or d["proto"] == 2:
        return None
    plen = pods[0].prefixlen if pods else (24 if fam == 4 else 64)
    for cluster in fp.fact(f"network{fam}").values:
        cnet = ipaddress.ip_network(cluster)
        if net.prefixlen == plen and net.subnet_of(cnet) and net not in pods:  # type: ignore[arg-type]
            return (
                f"route to peer podCIDR {dst} via {d['gateway']} inside cluster "
                f"network {cluster} (host-gw/DirectRouting, §2.3)"
            )
    return None


def match_routes(fp: Footprint, inv: Inventory, owned_links: set[int]) -> None:
    for r in inv.of("route"):
        if r.data["oif"] in owned_links and r.data["type"] != "blackhole":
            continue  # goes with its device
        reason = _route_claim(fp, dict(r.data))
        if reason:
            label = f"route {r.data['type']} {r.data['dst']} table {r.data['table']}"
            fp.claims.append(Claim(r, label, [reason]))
