"""Positive ownership of links by Flannel: by kind and attributes, any VNI.

Devices are candidates by name and kind and Flannel's only when their attributes agree
(:mod:`.flannel_devices`); the bridge Flannel's conf delegates to (``cni0``) is claimed
with its veths -- unless another CNI conf still uses that bridge. Addresses and routes
on those devices are listed with the device (its permanent neighbours and FDB entries
are read and backed up at apply time: cniscrub.apply.link_state); routes elsewhere are
:mod:`.flannel_routes`'.
"""

from __future__ import annotations

import ipaddress
import json

from cniscrub.footprints.attachments import covers_index, pod_of
from cniscrub.footprints.flannel_devices import device_reason, doubts
from cniscrub.footprints.model import Claim, Footprint, LeftAlone
from cniscrub.inventory.model import Inventory, Resource


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
            pod = pod_of(inv, dict(veth.data))
            fp.attached_pods.append(pod)
            fp.claims.append(
                Claim(
                    veth,
                    f"veth {veth.key} on {name}",
                    [f"port of Flannel's bridge {name}"],
                    _covers(idx, veth.data["index"]),
                )
            )


def _addresses(inv: Inventory) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {}
    for a in inv.of("address"):
        if not a.data["link_local"]:
            out.setdefault(a.data["index"], []).append(a.data["cidr"])
    return out


def _device(
    fp: Footprint,
    r: Resource,
    reason: str,
    addrs: dict[int, list[str]],
    idx: dict[int, list[Resource]],
) -> None:
    index = r.data["index"]
    node_ips = {c.split("/")[0] for i, cs in addrs.items() if i != index for c in cs}
    networks = fp.fact("network4").values + fp.fact("network6").values
    why = doubts(dict(r.data), addrs.get(index, []), node_ips, networks)
    if why:
        target = f"link {r.key} ({r.data['kind']})"
        fp.left_alone.append(
            LeftAlone(target, "looks like Flannel's but " + "; ".join(why))
        )
        return
    label = f"{r.data['kind']} device {r.key}"
    fp.claims.append(Claim(r, label, [reason], _covers(idx, index)))


def match_links(fp: Footprint, inv: Inventory) -> set[int]:
    links = inv.of("link")
    idx, addrs = covers_index(inv), _addresses(inv)
    for r in links:
        reason = device_reason(dict(r.data))
        if reason:
            _device(fp, r, reason, addrs, idx)
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
