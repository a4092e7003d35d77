"""Positive ownership of files by kube-router (kube-router-footprint.md §1, §2.1).

Only these are ever deleted:

* ``/etc/cni/net.d/10-kuberouter.conflist`` (the manifests' ``KUBE_ROUTER_CNI_CONF_FILE``),
  ``10-kuberouter.conf`` (the binary's default) and ``.tmp-kuberouter-cfg`` (the init
  container's temp file);
* ``/var/lib/cni/networks/<net>/*`` and the directory, ``<net>`` being the network the
  kube-router conf names (``mynet``) -- or, with no conf left, ``mynet`` when its
  ranges are proven kube-router pod CIDRs -- unless another CNI conf uses that name;
* ``/var/lib/cni/results/<net>-*`` and ``/var/lib/cni/cache/results/<net>-*``;
* ``/var/lib/kube-router/kubeconfig`` and ``/var/lib/kube-router`` when they are the
  empty directories a runtime makes for the kubeadm manifest's untyped hostPath.

The CNI plugins ``cni-install`` copies (``bridge``, ``portmap``, ``host-local``,
``loopback``) are shared with every other CNI and the runtime: they stay.

>>> file_reason("/etc/cni/net.d/10-kuberouter.conflist", "mynet")
'conflist of the install-cni init container, rewritten by kube-router (§1, §2.1)'
>>> file_reason("/var/lib/cni/networks/cbr0/10.244.1.2", "mynet") is None
True
"""

from __future__ import annotations

from cniscrub.footprints.kube_router_facts import (
    CONFS,
    NETWORK,
    covers_pod_cidr,
    others_using,
)
from cniscrub.footprints.model import Claim, Footprint, LeftAlone
from cniscrub.inventory.files import FilePlace
from cniscrub.inventory.model import Inventory, Resource

TMP = "/etc/cni/net.d/.tmp-kuberouter-cfg"
STATE = "/var/lib/kube-router"
KUBECONFIG = f"{STATE}/kubeconfig"
PLUGINS = ("bridge", "portmap", "host-local", "loopback")  # §1 cni-install
PLACES = (
    FilePlace(STATE),
    *(FilePlace(f"/opt/cni/bin/{p}", children=False) for p in PLUGINS),
)


def network_dir(netname: str) -> str:
    return f"/var/lib/cni/networks/{netname}"


def file_reason(path: str, netname: str) -> str | None:
    parent, _, name = path.rpartition("/")
    if path == CONFS[0]:
        return "conflist of the install-cni init container, rewritten by kube-router (§1, §2.1)"
    if path == CONFS[1]:
        return "kube-router's default CNI conf file (no KUBE_ROUTER_CNI_CONF_FILE, §1)"
    if path == TMP:
        return "temp file of an interrupted install-cni init container (§1)"
    if parent == network_dir(netname):
        return f"host-local store of kube-router's network {netname} (§2.1)"
    if parent in (
        "/var/lib/cni/results",
        "/var/lib/cni/cache/results",
    ) and name.startswith(f"{netname}-"):
        return f"libcni result cache of network {netname}"
    return None


def _network(fp: Footprint, inv: Inventory) -> str | None:
    """The network whose IPAM store is kube-router's, or None (with why left alone)."""
    names = fp.fact("network_name").values
    netname = names[0] if names else NETWORK
    users = others_using(fp, "name", netname)
    store = [r for r in inv.of("file") if r.key == network_dir(netname)]
    if users:
        for r in store:
            fp.left_alone.append(LeftAlone(f"directory {r.key}", f"used by {users[0]}"))
        return None
    if names or not store:
        return netname
    ranges = [
        r
        for r in inv.of("file")
        if r.key.startswith(f"{network_dir(netname)}/last_reserved_ip")
    ]
    if any(_in_pod_cidr(fp, r) for r in ranges):
        return netname
    why = "no kube-router conf names it and its leases are not in a proven pod CIDR"
    fp.left_alone.append(LeftAlone(f"directory {store[0].key}", why))
    return None


def _in_pod_cidr(fp: Footprint, r: Resource) -> bool:
    text = str(r.data.get("text") or "").strip()
    return any(covers_pod_cidr(fp, c) for c in _covering_nets(fp, text))


def _covering_nets(fp: Footprint, ip: str) -> list[str]:
    import ipaddress

    out = []
    for name in ("podcidr4", "pod_subnets4", "podcidr6", "pod_subnets6"):
        for value in fp.fact(name).values:
            try:
                if ipaddress.ip_address(ip) in ipaddress.ip_network(value):
                    out.append(value)
            except ValueError:
                continue
    return out


def _state_dirs(fp: Footprint, inv: Inventory) -> None:
    entries = [
        r for r in inv.of("file") if r.key == STATE or r.key.startswith(f"{STATE}/")
    ]
    inside = [r for r in entries if r.key != STATE]
    kubeconfig = next((r for r in inside if r.key == KUBECONFIG), None)
    if kubeconfig is not None and kubeconfig.data["type"] != "dir":
        why = "a kubeconfig someone placed for kube-router, not made by the install"
        fp.left_alone.append(LeftAlone(f"file {KUBECONFIG!r}", why))
        return
    if any(r.key != KUBECONFIG for r in inside) or not entries:
        for r in entries:
            fp.left_alone.append(
                LeftAlone(f"{r.data['type']} {r.key!r}", "holds other files")
            )
        return
    # the kubeconfig directory's own entries are not listed: one level deep only, so
    # apply's rmdir (never recursive) fails safely if it is not empty
    for r in sorted(entries, key=lambda r: -len(r.key)):
        why = "empty directory the runtime made for the manifest's untyped hostPath (§2.1)"
        fp.claims.append(Claim(r, f"directory {r.key}", [why]))
        fp.allowed_dirs.append(r.key)


def unresolved(fp: Footprint, inv: Inventory) -> None:
    """Places kube-router's files live in that could not be inspected, and ipsets that
    could not be read: the node is then never reported clean."""
    names = fp.fact("network_name").values or [NETWORK]
    must = {"/etc/cni/net.d", STATE, *(network_dir(n) for n in names)}
    for r in inv.of("file"):
        if r.data["type"] == "unread" and r.key.rstrip("/") in must:
            fp.unresolved.append(f"{r.key.rstrip('/')}: {r.data.get('error')}")
    fp.unresolved += [n for n in inv.notes if n.startswith("ipsets not inspected")]


def match_files(fp: Footprint, inv: Inventory) -> None:
    unresolved(fp, inv)
    netname = _network(fp, inv)
    if netname is not None:
        fp.allowed_dirs.append(network_dir(netname))
    for r in inv.of("file"):
        path, kind = r.key, r.data["type"]
        if kind == "unread":
            continue
        if path.startswith("/opt/cni/bin/"):
            why = "reference plugin shared with other CNIs and the runtime (§1)"
            fp.left_alone.append(LeftAlone(f"file {path!r}", why))
            continue
        if netname is not None and path == network_dir(netname) and kind == "dir":
            fp.claims.append(
                Claim(r, f"directory {path}", [f"host-local store of {netname}"])
            )
            continue
        reason = file_reason(path, netname or "")
        if reason is None or (netname is None and path.startswith("/var/lib/cni/")):
            continue
        if kind not in ("file", "symlink"):
            fp.left_alone.append(
                LeftAlone(f"file {path!r}", "not a regular file or symlink")
            )
            continue
        fp.claims.append(Claim(r, f"file {path}", [reason]))
    _state_dirs(fp, inv)
