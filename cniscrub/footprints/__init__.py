"""Footprints: what a CNI owns on a node, recognised positively. ``FOOTPRINTS`` maps a
``--cni`` name to its matcher (``Inventory -> Footprint``)."""

from __future__ import annotations

from collections.abc import Callable

from cniscrub.footprints import flannel, flannel_netfilter
from cniscrub.footprints.model import Footprint
from cniscrub.inventory.model import Inventory

FOOTPRINTS: dict[str, Callable[[Inventory], Footprint]] = {"flannel": flannel.match}
# which iptables rule lines can matter to a footprint (a pre-filter, never ownership)
RULE_FILTERS: dict[str, Callable[[str, str, str], bool]] = {
    "flannel": flannel_netfilter.rule_candidate
}
