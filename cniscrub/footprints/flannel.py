"""The Flannel footprint: everything a Flannel install can leave on a node, recognised
positively (flannel-footprint.md §7) -- netfilter, devices, routes, files -- plus the
preflight facts (a running ``flanneld``) and the pods still attached to its bridge.

>>> from cniscrub.inventory.model import Inventory
>>> match(Inventory()).claims
[]
"""

from __future__ import annotations

from cniscrub.footprints.flannel_facts import gather
from cniscrub.footprints.flannel_files import match_files
from cniscrub.footprints.flannel_links import match_links, match_routes
from cniscrub.footprints.flannel_netfilter import match_netfilter
from cniscrub.footprints.model import Footprint
from cniscrub.inventory.model import Inventory

AGENT_COMM = "flanneld"


def match(inv: Inventory) -> Footprint:
    """Pure: which objects of ``inv`` are Flannel's, with evidence."""
    fp = gather(inv)
    for p in inv.of("process"):
        if p.data["comm"] == AGENT_COMM and p.data.get("same_netns") is not False:
            fp.blockers.append(
                f"flanneld is running (pid {p.data['pid']}: "
                f"{p.data.get('cmdline', '')[:80]})"
            )
    match_netfilter(fp, inv)
    owned = match_links(fp, inv)
    match_routes(fp, inv, owned)
    match_files(fp, inv)
    fp.warnings += inv.notes
    return fp
