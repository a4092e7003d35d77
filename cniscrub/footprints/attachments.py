"""What goes with a device, and which pod a veth belongs to (any footprint).

:func:`covers_index` lists, per ifindex, the addresses and routes (outside the local
table) that disappear with the device, so a plan backs them up with it;
:func:`pod_of` names the pod sandbox behind a host-side veth from the named network
namespaces and libcni's result caches.

>>> from cniscrub.inventory.model import Inventory
>>> covers_index(Inventory())
{}
"""

from __future__ import annotations

from typing import Any

from cniscrub.inventory.model import Inventory, Resource


def covers_index(inv: Inventory) -> dict[int, list[Resource]]:
    """Per ifindex, the addresses and non-local routes on it (one pass per kind)."""
    out: dict[int, list[Resource]] = {}
    for a in inv.of("address"):
        out.setdefault(a.data["index"], []).append(a)
    for r in inv.of("route"):
        if r.data["type"] != "local" and r.data["table"] != 255:
            out.setdefault(r.data["oif"], []).append(r)
    return out


def pod_name(inv: Inventory, netns: str) -> str | None:
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


def pod_of(inv: Inventory, veth: dict[str, Any]) -> dict[str, Any]:
    """The pod sandbox at the other end of a host-side veth."""
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
        "pod": pod_name(inv, ns["path"]) if ns else None,
        "netns": ns["path"] if ns else None,
        "netns_name": ns["name"] if ns else None,
        "peer_index": veth["peer"],
    }
