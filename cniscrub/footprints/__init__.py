"""Footprints: what a CNI owns on a node, recognised positively. ``FOOTPRINTS`` maps a
``--cni`` name to its matcher (``Inventory -> Footprint``)."""

from __future__ import annotations

from collections.abc import Callable

from cniscrub.footprints import flannel
from cniscrub.footprints.model import Footprint
from cniscrub.inventory.model import Inventory

FOOTPRINTS: dict[str, Callable[[Inventory], Footprint]] = {"flannel": flannel.match}
