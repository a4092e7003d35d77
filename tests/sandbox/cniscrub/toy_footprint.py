"""A made-up CNI, "toy", whose footprint is registered by the tests (never shipped):
proof that a second footprint plugs into cniscrub through ``cniscrub.footprints``
alone -- plan, apply, verify and restore run it without any core change.

What toy leaves on a node (built by :func:`residue`): a bridge ``toy0`` with an
address, a vxlan ``toy.7``, a blackhole route for its pod range, a filter chain
``TOY-FWD`` jumped to from FORWARD (comment ``toy forward``), an nft table
``inet toy``, its conf ``/etc/cni/net.d/05-toy.conflist``, its binary
``/opt/cni/bin/toy``, and state under ``/run/toy`` and ``/var/lib/toy``.

Run as a script, it registers the footprint and runs the ``cniscrub`` CLI with the
given arguments (the way a test runs the CLI inside a node).
"""

from __future__ import annotations

import json
import sys
from typing import Any

from cniscrub import footprints
from cniscrub.footprints.model import Claim, Footprint, LeftAlone
from cniscrub.footprints.spec import FootprintSpec
from cniscrub.inventory import Scope
from cniscrub.inventory.files import FilePlace
from cniscrub.inventory.model import Inventory, Resource

CONF = "/etc/cni/net.d/05-toy.conflist"
BINARY = "/opt/cni/bin/toy"
DIRS = ("/run/toy", "/var/lib/toy")
POD_RANGE = "10.77.0.0/16"


def _files(fp: Footprint, inv: Inventory) -> None:
    fp.allowed_dirs = list(DIRS)
    for r in inv.of("file"):
        parent = r.key.rpartition("/")[0]
        if r.key in (CONF, BINARY) or parent in DIRS:
            fp.claims.append(Claim(r, f"file {r.key}", [f"toy writes {r.key}"]))
        elif r.key in DIRS and r.data["type"] == "dir":
            fp.claims.append(Claim(r, f"directory {r.key}", ["toy's state directory"]))


def _covers(inv: Inventory, index: int) -> list[Resource]:
    addrs = [a for a in inv.of("address") if a.data["index"] == index]
    return addrs + [
        r
        for r in inv.of("route")
        if r.data["oif"] == index
        and r.data["type"] != "local"
        and r.data["table"] != 255
    ]


def _links(fp: Footprint, inv: Inventory) -> None:
    for r in inv.of("link"):
        d = r.data
        if r.key == "toy0" and d["kind"] == "bridge":
            ev = ["bridge named by toy's conf"]
            fp.claims.append(Claim(r, "bridge toy0", ev, _covers(inv, d["index"])))
        elif r.key == "toy.7" and d["kind"] == "vxlan" and d["vxlan"].get("id") == 7:
            ev = ["toy's vxlan, VNI 7"]
            fp.claims.append(Claim(r, "vxlan toy.7", ev, _covers(inv, d["index"])))
        elif r.key.startswith("toy"):
            fp.left_alone.append(LeftAlone(f"link {r.key}", "not a toy device"))
    for r in inv.of("route"):
        if r.data["type"] == "blackhole" and r.data["dst"] == POD_RANGE:
            fp.claims.append(Claim(r, f"route blackhole {POD_RANGE}", ["toy's range"]))


def _netfilter(fp: Footprint, inv: Inventory) -> None:
    for c in inv.of("ipt_chain"):
        if c.data["chain"] == "TOY-FWD":
            rules = [r for r in inv.of("ipt_rule") if r.data["chain"] == "TOY-FWD"]
            label = f"chain TOY-FWD ({c.key})"
            fp.claims.append(Claim(c, label, ["toy's chain"], rules))
    for r in inv.of("ipt_rule"):
        if r.data["chain"] != "TOY-FWD" and r.data["comment"] == "toy forward":
            fp.claims.append(Claim(r, f"rule {r.key}", ['comment "toy forward"']))
    for t in inv.of("nft_table"):
        if t.key == "inet toy":
            fp.claims.append(Claim(t, "nft table inet toy", ["toy's nft table"]))


def match(inv: Inventory) -> Footprint:
    fp = Footprint("toy")
    fp.fact("network4").add(POD_RANGE, "toy's fixed range")
    _netfilter(fp, inv)
    _links(fp, inv)
    _files(fp, inv)
    fp.warnings += inv.notes
    return fp


SPEC = FootprintSpec(
    name="toy",
    title="Toy",
    agents=("toyd",),
    scope=Scope(
        file_places=(
            FilePlace("/run/toy", read=True),
            FilePlace("/var/lib/toy"),
            FilePlace(BINARY, children=False),
        ),
        rule_filter=lambda table, chain, line: "TOY" in line or "toy" in line,
    ),
    match=match,
)


def residue(node: Any) -> None:
    """Toy's state on a sandbox node (every object of every kind apply handles)."""
    node.ip("link", "add", "toy0", "type", "bridge")
    node.ip("addr", "add", "10.77.1.1/24", "dev", "toy0")  # left down: an up bridge
    # without ports reports carrier until its first port change, so its state after
    # a re-create (NO-CARRIER) would differ for reasons that are not toy's
    node.ip("link", "add", "toy.7", "type", "vxlan", "id", "7", "dstport", "4790")
    node.ip("route", "add", "blackhole", POD_RANGE)
    node.ipt(
        "nft",
        4,
        "*filter\n:TOY-FWD - [0:0]\n"
        '-A FORWARD -m comment --comment "toy forward" -j TOY-FWD\n'
        f"-A TOY-FWD -s {POD_RANGE} -j ACCEPT\nCOMMIT\n",
    )
    node.nft(
        "table inet toy {\n chain toyfwd {\n  type filter hook forward priority 0;\n }\n}\n"
    )
    conf = {"cniVersion": "1.0.0", "name": "toynet", "plugins": [{"type": "toy"}]}
    node.write(CONF, json.dumps(conf))
    node.write(BINARY, b"\x7fELF toy plugin", 0o755)
    node.write("/run/toy/state.env", "TOY_RANGE=10.77.0.0/16\n")
    node.write("/var/lib/toy/lease-1", "abc")


if __name__ == "__main__":
    footprints.register(SPEC)
    from cniscrub.cli.main import main

    sys.exit(main(sys.argv[1:]))
