"""The CNI confs in ``/etc/cni/net.d`` as Flannel's footprint sees them.

Flannel's own conf is ``10-flannel.conflist`` *when it invokes the flannel plugin*
(flannel-footprint.md §1.2, §1.3); a conf saved under that name that does not is
another CNI's conf, and counts as such. Every other conf the runtime could load
(``*.conf``, ``*.conflist``, ``*.json``, not hidden: harness-anchors.md on go-cni's
``loadFromConfDir``, kube-router-footprint.md §3.2) is another user of the bridges and
portmap it names -- including one
that chains the flannel plugin itself, whose bridge is its delegate's (default
``cni0``, §3.2). Such a conf is a blocker: cniscrub cannot prove it is Flannel's own,
and while it is there the runtime may still pick it and fail as the README says.

>>> is_flannel_conf({"plugins": [{"type": "flannel"}, {"type": "portmap"}]})
True
"""

from __future__ import annotations

from typing import Any

from cniscrub.inventory.model import Inventory, Resource

CONF_DIR = "/etc/cni/net.d/"
FLANNEL_CONF = "/etc/cni/net.d/10-flannel.conflist"
DEFAULT_BRIDGE = "cni0"  # bridge plugin default (flannel-footprint.md §3.2)
LOADABLE = (".conf", ".conflist", ".json")


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


def loadable(res: Resource) -> bool:
    """Could a runtime load this conf (by its name, libcni's rule)?"""
    name = res.key.rsplit("/", 1)[-1]
    return name.endswith(LOADABLE) and not name.startswith(".")


def flannel_conf(inv: Inventory) -> dict[str, Any] | None:
    """The parsed 10-flannel.conflist, if it is there and invokes flannel."""
    res = next((r for r in inv.of("file") if r.key == FLANNEL_CONF), None)
    conf = res.data.get("conf") if res else None
    return conf if isinstance(conf, dict) and is_flannel_conf(conf) else None


def _bridges(conf: dict[str, Any]) -> list[str]:
    out = []
    for p in plugins_of(conf):
        if p.get("type") == "bridge":
            out.append(str(p.get("bridge", DEFAULT_BRIDGE)))
        elif p.get("type") == "flannel":
            delegate = p.get("delegate") if isinstance(p.get("delegate"), dict) else {}
            assert isinstance(delegate, dict)
            out.append(str(delegate.get("bridge", DEFAULT_BRIDGE)))
    return out


def other_conf_usage(inv: Inventory) -> list[dict[str, Any]]:
    """Every loadable conf but Flannel's own: its bridges, whether it chains portmap or
    the flannel plugin, its name."""
    own = flannel_conf(inv) is not None
    out = []
    for res in confs(inv):
        conf = res.data.get("conf")
        if (
            not isinstance(conf, dict)
            or not loadable(res)
            or (own and res.key == FLANNEL_CONF)
        ):
            continue
        plugins = plugins_of(conf)
        out.append(
            {
                "path": res.key,
                "name": conf.get("name"),
                "bridges": _bridges(conf),
                "portmap": any(p.get("type") == "portmap" for p in plugins),
                "flannel": is_flannel_conf(conf),
            }
        )
    return out
