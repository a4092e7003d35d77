"""Positive ownership of files: exact paths Flannel (and its delegates for network
``cbr0``) write, inside an allow-list of directories.

Only these are ever deleted (flannel-footprint.md §1.3, §2.2, §3.3, §4, §7):

* ``/etc/cni/net.d/10-flannel.conflist`` (when it invokes the flannel plugin, or cannot
  be read: it is at Flannel's exact path) and ``.10-flannel.conflist.tmp*``
* ``/opt/cni/bin/flannel`` (a symlink there is removed, never its target)
* ``/run/flannel/*`` and the directory
* ``/var/lib/cni/flannel/*`` and the directory
* ``/var/lib/cni/networks/<net>/*`` and the directory (``<net>`` = Flannel's network)
* ``/var/lib/cni/results/<net>-*`` and ``/var/lib/cni/cache/results/<net>-*``

What cannot be settled is said, never passed over: another loadable conf that invokes
the flannel plugin is a blocker (and unresolved), and a place where Flannel's files
live that could not be inspected (a symlink, unreadable) leaves the node unresolved --
``verify`` is not clean while either remains.

>>> allowed_dir("/var/lib/cni/networks/cbr0", "cbr0")
True
>>> allowed_dir("/var/lib/cni", "cbr0")
False
"""

from __future__ import annotations

import json

from cniscrub.footprints.flannel_confs import FLANNEL_CONF, flannel_conf
from cniscrub.footprints.model import Claim, Footprint, LeftAlone
from cniscrub.inventory.files import NETWORKS_DIR, SHARED_PLACES, FilePlace
from cniscrub.inventory.model import Inventory, Resource

CONF = FLANNEL_CONF
TMP_PREFIX = "/etc/cni/net.d/.10-flannel.conflist.tmp"
BINARY = "/opt/cni/bin/flannel"
# what the inventory reads for Flannel besides the shared CNI places (confs, IPAM,
# result caches): subnet.env and wgkey (§2.2), the plugin's scratch files (§3.3),
# the plugin binary (§1.3)
PLACES = (
    FilePlace("/run/flannel", read=True),
    FilePlace("/var/lib/cni/flannel"),
    FilePlace(BINARY, children=False),
)


def dirs_for(netname: str) -> tuple[str, ...]:
    return ("/run/flannel", "/var/lib/cni/flannel", f"{NETWORKS_DIR}/{netname}")


def allowed_dir(path: str, netname: str) -> bool:
    return path in dirs_for(netname)


def _must_inspect(netname: str) -> set[str]:
    """Where Flannel's files can be: a place here that is not a readable directory
    (or, for the binary, could not be looked at) leaves the node unresolved."""
    shared = {p.path for p in SHARED_PLACES}
    return {*shared, NETWORKS_DIR, *dirs_for(netname), BINARY}


def _bad_name(path: str) -> bool:
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _binary_reason(r: Resource) -> str:
    if r.data["type"] == "symlink":
        return (
            f"symlink to {r.data.get('link_target')!r} at the path install-cni-plugin "
            "copies the flannel plugin to (§1.3); the symlink is removed, its target "
            "is left alone"
        )
    return "flannel CNI plugin copied by install-cni-plugin (§1.3)"


def _file_reason(r: Resource, netname: str, own_conf: bool) -> str | None:
    path = r.key
    parent, _, name = path.rpartition("/")
    if path == CONF and (own_conf or r.data.get("conf") is None):
        return "conflist written by the install-cni init container (§1.3)"
    if path.startswith(TMP_PREFIX):
        return "temp file of an interrupted install-conf (v0.28.6+, §1.3)"
    if path == BINARY:
        return _binary_reason(r)
    if parent in dirs_for(netname):
        return f"inside {parent} (§2.2, §3.3, §4)"
    if parent in (
        "/var/lib/cni/results",
        "/var/lib/cni/cache/results",
    ) and name.startswith(f"{netname}-"):
        return f"libcni result cache of network {netname} (§4)"
    return None


def _left(fp: Footprint, r: Resource, why: str) -> None:
    fp.left_alone.append(LeftAlone(f"file {r.key!r}", why))


def _unresolved(fp: Footprint, inv: Inventory, netname: str) -> None:
    """Blocking confs, and places that could not be inspected."""
    must = _must_inspect(netname)
    for r in inv.of("file"):
        kind, path = r.data["type"], r.key
        if kind == "unread" and path.rstrip("/") in must:
            fp.unresolved.append(f"{path.rstrip('/')}: {r.data.get('error')}")
        elif path in must and kind != "dir" and path != BINARY:
            what = (
                f"a symlink to {r.data.get('link_target')!r}"
                if kind == "symlink"
                else f"a {kind}"
            )
            fp.unresolved.append(f"{path} is {what}, not a directory: not inspected")
    for use in (json.loads(v) for v in fp.fact("other_confs").values):
        if use["flannel"]:
            why = (
                f"{use['path']} still invokes the flannel plugin and the runtime may load "
                f"it; only {CONF} is removed as Flannel's own: remove or replace it"
            )
            fp.blockers.append(why)
            fp.unresolved.append(why)


def match_files(fp: Footprint, inv: Inventory) -> None:
    netname = fp.fact("network_name").values[0]
    fp.allowed_dirs = list(dirs_for(netname))
    own_conf = flannel_conf(inv) is not None
    _unresolved(fp, inv, netname)
    blocked: set[str] = set()
    dirs = []
    for r in inv.of("file"):
        path, kind = r.key, r.data["type"]
        parent = path.rpartition("/")[0]
        if kind == "unread":
            continue
        if kind == "dir" and allowed_dir(path, netname):
            dirs.append(r)
            continue
        if kind == "symlink" and allowed_dir(path, netname):
            _left(
                fp, r, f"is a symlink to {r.data.get('link_target')!r}; never followed"
            )
            continue
        reason = _file_reason(r, netname, own_conf)
        if reason is None:
            if path.startswith(f"{NETWORKS_DIR}/") and kind == "dir":
                _left(fp, r, "IPAM directory of another network")
            elif path == CONF:
                _left(
                    fp,
                    r,
                    "named like Flannel's conf but does not invoke the flannel plugin",
                )
            elif path.startswith("/etc/cni/net.d/") and kind != "dir":
                _left(fp, r, "CNI conf of another CNI")
            continue
        if _bad_name(path) or kind in ("dir", "other"):
            _left(fp, r, "not a regular file or symlink, or its name is not UTF-8")
            blocked.add(parent)
            continue
        if r.data.get("error"):
            fp.warnings.append(
                f"{path}: {r.data['error']}; owned by path, content unused"
            )
        label = f"symlink {path}" if kind == "symlink" else f"file {path}"
        fp.claims.append(Claim(r, label, [reason]))
    for d in dirs:
        if d.key in blocked:
            _left(fp, d, "directory keeps entries cniscrub will not delete")
        else:
            ev = [f"allow-listed directory of Flannel ({d.key})"]
            fp.claims.append(Claim(d, f"directory {d.key}", ev))
