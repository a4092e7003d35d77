"""What one CNI's footprint is to the rest of cniscrub: a :class:`FootprintSpec`.

The core (inventory, plan, apply, cli) knows no CNI. It reads, per footprint: the name
``--cni`` takes, the agent processes whose presence blocks a cleanup, what the inventory
must read for it (:class:`~cniscrub.inventory.Scope`: its file places, a rule
pre-filter), the pure matcher that turns an inventory into claims with evidence, and --
for ``cniscrub cluster`` -- what its install leaves in the Kubernetes API.

>>> from cniscrub.footprints.model import Footprint
>>> from cniscrub.inventory.model import Inventory
>>> spec = FootprintSpec("toy", "Toy", ("toyd",), Scope(), lambda inv: Footprint("toy"))
>>> (spec.name, spec.agents, spec.match(Inventory()).cni)
('toy', ('toyd',), 'toy')
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from cniscrub.footprints.model import Footprint
from cniscrub.inventory import Scope
from cniscrub.inventory.model import Inventory


@dataclass(frozen=True)
class ApiObject:
    """One object an install manifest creates (``namespace`` None: cluster-scoped)."""

    kind: str
    name: str
    namespace: str | None = None
    api_version: str = "v1"


@dataclass(frozen=True)
class ClusterFootprint:
    """What the CNI leaves in the Kubernetes API, as data ``cniscrub cluster`` reads:

    - ``objects``: its install manifest's objects by name (any version);
    - ``labels``: label selectors that mark its objects in any version or variant
      (an object of one of the ``objects``' kinds carrying one is the CNI's too);
    - ``pod_labels``: selectors of its agent's pods (found with or without their
      DaemonSet);
    - ``namespace_labels``: labels its manifest puts on its own namespace (PodSecurity
      admission), which go with that namespace;
    - ``node_annotation_prefixes``: node annotations its agent writes (by prefix);
    - ``node_condition_type`` / ``node_condition_reasons``: the node condition it sets,
      removed only when its reason is the CNI's own (another CNI's is kept).
    """

    objects: tuple[ApiObject, ...] = ()
    labels: tuple[str, ...] = ()
    pod_labels: tuple[str, ...] = ()
    namespace_labels: tuple[tuple[str, str], ...] = ()
    node_annotation_prefixes: tuple[str, ...] = ()
    node_condition_reasons: tuple[str, ...] = ()
    node_condition_type: str = "NetworkUnavailable"


@dataclass(frozen=True)
class FootprintSpec:
    """One CNI's footprint, as listed in :data:`cniscrub.footprints.FOOTPRINTS`."""

    name: str  # the --cni value
    title: str  # how human output names the CNI ("Flannel")
    agents: tuple[str, ...]  # process comm names that block a cleanup while running
    scope: Scope  # what the inventory reads for it beyond the shared state
    match: Callable[[Inventory], Footprint]  # pure: inventory -> claims + evidence
    cluster: ClusterFootprint | None = None  # API side (cniscrub.cluster)
