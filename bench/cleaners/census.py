"""Count what a cleaner left and what it destroyed, by exact identity.

``observe`` re-reads a node: pyroute2 dumps of its network namespace, the
``iptables-save`` text of that namespace and the file tree under its root, all
normalised to the identities documented in ``spec``. ``compare`` is pure: a
Flannel object is *left* when its identity is still observed (files match by
path: any content still counts as residue); a foreign object is *lost* when
its identity is gone (files: missing or changed content).
"""

from __future__ import annotations

import os
import socket
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from pyroute2 import IPRoute

from .files import digest
from .spec import KINDS, Identity

Observed = dict[str, set[Identity]]
LOCAL_TABLE = 255
TIMEOUT = 60


@dataclass
class Census:
    """Per kind: Flannel objects left and foreign objects lost."""

    flannel_left: dict[str, int] = field(default_factory=dict)
    foreign_lost: dict[str, int] = field(default_factory=dict)
    lost_examples: list[Identity] = field(default_factory=list)

    @property
    def left(self) -> int:
        """Flannel objects still present."""
        return sum(self.flannel_left.values())

    @property
    def lost(self) -> int:
        """Foreign objects missing or changed."""
        return sum(self.foreign_lost.values())


def parse_iptables_save(text: str) -> tuple[set[Identity], set[Identity]]:
    """(user chains, rules) of an ``iptables-save`` dump as identities."""
    chains: set[Identity] = set()
    rules: set[Identity] = set()
    table = ""
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("*"):
            table = line[1:]
        elif line.startswith(":"):
            name, policy = line[1:].split()[:2]
            if policy == "-":
                chains.add((table, name))
        elif line.startswith("-A "):
            rules.add((table, line))
    return chains, rules


def compare(flannel: Observed, foreign: Observed, seen: Observed) -> Census:
    """Census of ``seen`` against the manifest (pure)."""
    out = Census()
    for kind in KINDS:
        now = seen.get(kind, set())
        if kind == "file":
            paths = {ident[0] for ident in now}
            left = {i for i in flannel.get(kind, set()) if i[0] in paths}
        else:
            left = flannel.get(kind, set()) & now
        lost = foreign.get(kind, set()) - now
        out.flannel_left[kind] = len(left)
        out.foreign_lost[kind] = len(lost)
        out.lost_examples += sorted(lost)[:3]
    return out


def observe_files(root: Path) -> set[Identity]:
    """``(relpath, digest)`` of every file and directory under ``root``."""
    found: set[Identity] = set()
    for dirpath, dirnames, filenames in os.walk(root):
        rel = Path(dirpath).relative_to(root)
        for d in dirnames:
            found.add(((rel / d).as_posix() + "/", "dir"))
        for f in filenames:
            path = Path(dirpath) / f
            data = b"" if path.is_symlink() else path.read_bytes()
            found.add(((rel / f).as_posix(), digest(data)))
    return found


def _netlink(netns: str) -> Observed:
    seen: Observed = {
        k: set() for k in ("link", "address", "route", "neighbour", "fdb")
    }
    with IPRoute(netns=netns) as ipr:
        names: dict[int, str] = {}
        for link in ipr.get_links():
            name = link.get_attr("IFLA_IFNAME")
            names[link["index"]] = name
            info = link.get_attr("IFLA_LINKINFO")
            kind = (info.get_attr("IFLA_INFO_KIND") if info else None) or ""
            seen["link"].add((name, kind))
        for addr in ipr.get_addr(family=socket.AF_INET):
            ifname = names.get(addr["index"], "?")
            cidr = f"{addr.get_attr('IFA_ADDRESS')}/{addr['prefixlen']}"
            seen["address"].add((ifname, cidr))
        for route in ipr.route("dump", family=socket.AF_INET):
            table = route.get_attr("RTA_TABLE") or route["table"]
            if table == LOCAL_TABLE:
                continue
            dst = f"{route.get_attr('RTA_DST') or '0.0.0.0'}/{route['dst_len']}"
            gw = route.get_attr("RTA_GATEWAY") or ""
            oif = names.get(route.get_attr("RTA_OIF") or -1, "")
            seen["route"].add((str(table), dst, gw, oif))
        for nb in ipr.get_neighbours(family=socket.AF_INET):
            ifname = names.get(nb["ifindex"], "?")
            ll = nb.get_attr("NDA_LLADDR") or ""
            seen["neighbour"].add((ifname, nb.get_attr("NDA_DST") or "", ll))
        for nb in ipr.get_neighbours(family=socket.AF_BRIDGE):
            ifname = names.get(nb["ifindex"], "?")
            mac = nb.get_attr("NDA_LLADDR") or ""
            seen["fdb"].add((ifname, mac, nb.get_attr("NDA_DST") or ""))
    return seen


def iptables_save(netns: str, binary: str = "iptables-save") -> str:
    """``iptables-save`` output of the network namespace at path ``netns``."""
    proc = subprocess.run(
        ["nsenter", f"--net={netns}", "--", binary],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(
            f"{binary} in {netns} failed rc={proc.returncode}: {proc.stderr}"
        )
    return proc.stdout


def observe(netns: str, root: Path) -> Observed:
    """Everything the manifest can name, as now found in ``netns`` (a path) and
    under ``root``."""
    seen = _netlink(netns)
    seen["chain"], seen["rule"] = parse_iptables_save(iptables_save(netns))
    seen["file"] = observe_files(root)
    return seen
