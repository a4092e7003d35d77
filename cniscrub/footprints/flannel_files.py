"""Positive ownership of files: exact paths Flannel (and its delegates for network
``cbr0``) write, inside an allow-list of directories.

Only these are ever deleted (flannel-footprint.md §1.3, §2.2, §3.3, §4, §7):

* ``/etc/cni/net.d/10-flannel.conflist`` and ``.10-flannel.conflist.tmp*``
* ``/opt/cni/bin/flannel``
* ``/run/flannel/*`` and the directory
* ``/var/lib/cni/flannel/*`` and the directory
* ``/var/lib/cni/networks/<net>/*`` and the directory (``<net>`` = Flannel's network)
* ``/var/lib/cni/results/<net>-*`` and ``/var/lib/cni/cache/results/<net>-*``

>>> allowed_dir("/var/lib/cni/networks/cbr0", "cbr0")
True
>>> allowed_dir("/var/lib/cni", "cbr0")
False
"""

from __future__ import annotations

from cniscrub.footprints.model import Claim, Footprint, LeftAlone
from cniscrub.inventory.files import FilePlace
from cniscrub.inventory.model import Inventory, Resource

CONF = "/etc/cni/net.d/10-flannel.conflist"
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
    return ("/run/flannel", "/var/lib/cni/flannel", f"/var/lib/cni/networks/{netname}")


def allowed_dir(path: str, netname: str) -> bool:
    return path in dirs_for(netname)


def _bad_name(path: str) -> bool:
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _file_reason(path: str, netname: str) -> str | None:
    parent, _, name = path.rpartition("/")
    if path == CONF:
        return "conflist written by the install-cni init container (§1.3)"
    if path.startswith(TMP_PREFIX):
        return "temp file of an interrupted install-conf (v0.28.6+, §1.3)"
    if path == BINARY:
        return "flannel CNI plugin copied by install-cni-plugin (§1.3)"
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


def match_files(fp: Footprint, inv: Inventory) -> None:
    netname = fp.fact("network_name").values[0]
    fp.allowed_dirs = list(dirs_for(netname))
    blocked: set[str] = set()
    dirs = []
    for r in inv.of("file"):
        path, kind = r.key, r.data["type"]
        parent = path.rpartition("/")[0]
        if kind == "dir" and allowed_dir(path, netname):
            dirs.append(r)
            continue
        if kind == "symlink" and allowed_dir(path, netname):
            _left(
                fp, r, f"is a symlink to {r.data.get('link_target')!r}; never followed"
            )
            continue
        reason = _file_reason(path, netname)
        if reason is None:
            if path.startswith("/var/lib/cni/networks/") and kind == "dir":
                _left(fp, r, "IPAM directory of another network")
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
        fp.claims.append(Claim(r, f"file {path}", [reason]))
    for d in dirs:
        if d.key in blocked:
            _left(fp, d, "directory keeps entries cniscrub will not delete")
        else:
            fp.claims.append(
                Claim(
                    d,
                    f"directory {d.key}",
                    [f"allow-listed directory of Flannel ({d.key})"],
                )
            )
