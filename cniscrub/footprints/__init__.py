"""Footprints: what a CNI owns on a node, recognised positively.

:data:`FOOTPRINTS` lists every shipped footprint explicitly: ``--cni`` name -> where
its :class:`~cniscrub.footprints.spec.FootprintSpec` lives (imported on first use, so
the CLI can offer the names without importing any matcher). A second CNI plugs in by
adding its modules under ``cniscrub/footprints/`` and one line here; nothing else in
cniscrub names a CNI. :func:`register` adds a spec at run time (tests, plug-ins).

>>> "flannel" in names()
True
>>> get("flannel").agents
('flanneld',)
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cniscrub.footprints.spec import FootprintSpec

FOOTPRINTS: dict[str, str] = {
    "flannel": "cniscrub.footprints.flannel:FOOTPRINT",
    "kube-router": "cniscrub.footprints.kube_router:FOOTPRINT",
}
_registered: dict[str, FootprintSpec] = {}


def names() -> list[str]:
    """Every footprint name ``--cni`` accepts, sorted."""
    return sorted({*FOOTPRINTS, *_registered})


def get(name: str) -> FootprintSpec:
    """The footprint called ``name`` (KeyError if there is none)."""
    if name in _registered:
        return _registered[name]
    module, _, attr = FOOTPRINTS[name].partition(":")
    spec: FootprintSpec = getattr(importlib.import_module(module), attr)
    return spec


def register(spec: FootprintSpec) -> None:
    """Make ``spec`` available under its name (replacing a registered one)."""
    _registered[spec.name] = spec


def unregister(name: str) -> None:
    """Forget a footprint :func:`register` added (shipped ones stay)."""
    _registered.pop(name, None)
