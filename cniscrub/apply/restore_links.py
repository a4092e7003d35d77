"""Re-create links (and the routes, neighbours, FDB entries and addresses that went with
them) from their journal backup, over netlink.

>>> vxlan_args({"id": 1, "local": "198.18.0.2", "port": 8472, "learning": 0}, {})
{'vxlan_id': 1, 'vxlan_local': '198.18.0.2', 'vxlan_port': 8472, 'vxlan_learning': 0}
"""

from __future__ import annotations

import os
from typing import Any

from cniscrub.node.runner import Runner

VXLAN_ARGS = {
    "id": "vxlan_id",
    "local": "vxlan_local",
    "port": "vxlan_port",
    "learning": "vxlan_learning",
    "ttl": "vxlan_ttl",
}


def vxlan_args(v: dict[str, Any], index_of: dict[str, int]) -> dict[str, Any]:
    args = {VXLAN_ARGS[k]: val for k, val in v.items() if k in VXLAN_ARGS}
    if "local" in v and ":" in str(v["local"]):
        args["vxlan_local6"] = args.pop("vxlan_local")
    if v.get("underlay") in index_of:
        args["vxlan_link"] = index_of[v["underlay"]]
    return args


def _route_args(d: dict[str, Any], oif: int | None) -> dict[str, Any]:
    args: dict[str, Any] = {
        "family": 10 if d["family"] == 6 else 2,
        "table": d["table"],
        "type": d["type"],
        "proto": d["proto"],
        "scope": d["scope"],
    }
    if d["dst"] and d["dst"] != "default":
        args["dst"] = d["dst"]
    if d.get("gateway"):
        args["gateway"] = d["gateway"]
    if oif is not None and d["type"] != "blackhole":
        args["oif"] = oif
    if d.get("priority") is not None:
        args["priority"] = d["priority"]
    if d.get("onlink"):
        args["flags"] = 4  # RTNH_F_ONLINK
    if d.get("prefsrc"):
        args["prefsrc"] = d["prefsrc"]
    return args


def route(d: dict[str, Any], oif: int | None = -1) -> str:
    from pyroute2.iproute.linux import IPRoute
    from pyroute2.netlink.exceptions import NetlinkError

    with IPRoute() as ipr:
        try:
            ipr.route("add", **_route_args(d, d.get("oif") if oif == -1 else oif))
        except NetlinkError as exc:
            if exc.code == 17:  # EEXIST
                return "noop"
            raise
    return "restored"


def _create(ipr: Any, d: dict[str, Any], pod: dict[str, Any] | None) -> str | None:
    index_of = {link.get_attr("IFLA_IFNAME"): link["index"] for link in ipr.get_links()}
    name, kind = d["name"], d["kind"]
    if kind == "vxlan":
        v = {**d.get("vxlan", {}), "underlay": d.get("underlay")}
        ipr.link("add", ifname=name, kind="vxlan", **vxlan_args(v, index_of))
    elif kind == "veth":
        if not pod or not pod.get("netns") or not os.path.exists(pod["netns"]):
            return "pod netns is gone; recreate the pod once the next CNI is up"
        if pod.get("error"):
            return f"pod side was not backed up: {pod['error']}"
        fd = os.open(pod["netns"], os.O_RDONLY)
        try:
            ipr.link(
                "add",
                ifname=name,
                kind="veth",
                peer={"ifname": pod["ifname"], "net_ns_fd": fd},
            )
        finally:
            os.close(fd)
    elif kind == "tun":
        ipr.link("add", ifname=name, kind="tuntap", mode="tun")
    else:
        ipr.link("add", ifname=name, kind=kind)
    return None


def _pod_side(runner: Runner, pod: dict[str, Any]) -> None:
    ns = ["nsenter", f"--net={pod['netns']}", "ip"]
    name = pod["ifname"]
    runner.run(
        [*ns, "link", "set", name, "address", pod["mac"], "mtu", str(pod["mtu"])]
    )
    for cidr in pod["addresses"]:
        runner.run(
            [*ns, "addr", "add", cidr, "dev", name, "nodad"]
            if ":" in cidr
            else [*ns, "addr", "add", cidr, "dev", name]
        )
    if pod.get("up"):
        runner.run([*ns, "link", "set", name, "up"])
    for r in pod["routes"]:
        fam = "-6" if r.get("family") == 6 else "-4"
        argv = [*ns, fam, "route", "replace", r["dst"]]
        if r.get("gateway"):
            argv += ["via", r["gateway"]]
        runner.run([*argv, "dev", name]).check()


def _covers(ipr: Any, index: int, covers: list[dict[str, Any]]) -> None:
    for c in covers:
        d = c["data"]
        if c["kind"] == "address" and not d["link_local"]:
            ipr.addr(
                "add",
                index=index,
                address=d["cidr"].split("/")[0],
                prefixlen=int(d["cidr"].split("/")[1]),
            )
    for c in covers:
        d = c["data"]
        if c["kind"] == "route" and d["proto"] != 2:
            route(d, index)
        elif c["kind"] == "neighbour":
            ipr.neigh(
                "replace",
                ifindex=index,
                dst=d["dst"],
                lladdr=d["lladdr"],
                state=0x80,
                family=10 if d["family"] == 6 else 2,
            )
        elif c["kind"] == "fdb":
            ipr.fdb(
                "append", ifindex=index, lladdr=d["lladdr"], dst=d["dst"], state=0x80
            )


def _link_local(ipr: Any, index: int, covers: list[dict[str, Any]]) -> None:
    """Put back the saved IPv6 link-local address (it derives from a MAC at up time)."""
    saved = [
        c["data"]["cidr"]
        for c in covers
        if c["kind"] == "address" and c["data"]["link_local"]
    ]
    if not saved:
        return
    now = [
        f"{a.get_attr('IFA_ADDRESS')}/{a['prefixlen']}"
        for a in ipr.get_addr(index=index, family=10)
        if str(a.get_attr("IFA_ADDRESS")).startswith("fe80:")
    ]
    for cidr in saved:
        if cidr not in now:
            addr, plen = cidr.split("/")
            ipr.addr("add", index=index, address=addr, prefixlen=int(plen), flags=0x02)
    for cidr in now:
        if cidr not in saved:
            addr, plen = cidr.split("/")
            ipr.addr("del", index=index, address=addr, prefixlen=int(plen))


def _inherited_mac(p: dict[str, Any]) -> bool:
    """A bridge whose MAC came from a port: let the kernel derive it again."""
    return p["resource"]["kind"] == "bridge" and p["resource"]["mac"] in p.get(
        "port_macs", []
    )


def link(runner: Runner, p: dict[str, Any]) -> tuple[str, str | None]:
    from pyroute2.iproute.linux import IPRoute

    d = p["resource"]
    with IPRoute() as ipr:
        if ipr.link_lookup(ifname=d["name"]):
            return "noop", None
        problem = _create(ipr, d, p.get("pod"))
        if problem:
            return "not restorable", problem
        index = ipr.link_lookup(ifname=d["name"])[0]
        if _inherited_mac(p):
            ipr.link("set", index=index, mtu=d["mtu"])
        else:
            ipr.link("set", index=index, address=d["mac"], mtu=d["mtu"])
        if d.get("master_name"):
            master = ipr.link_lookup(ifname=d["master_name"])
            if master:
                ipr.link("set", index=index, master=master[0])
        if d.get("up"):
            ipr.link("set", index=index, state="up")
        if p.get("pod"):
            _pod_side(runner, p["pod"])
        _covers(ipr, index, p.get("covers", []))
        _link_local(ipr, index, p.get("covers", []))
    return "restored", None
