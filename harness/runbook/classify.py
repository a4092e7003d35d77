"""Whose is each object, and what did a step do to it — decided by snapshots alone.

The cleaner must not judge itself, so nothing here knows a CNI's footprint. Every node
(and the cluster's API) is snapshotted into named objects (``name -> fingerprint``; the
fingerprint is the part that may change, e.g. a file's digest):

* **B**, the baseline: the foreign state, before the CNI is installed;
* **F**, after the CNI and the workload pods are up.

The CNI's objects are ``F - B``. After any step, with snapshot **S**:
``left = (F - B) ∩ S``, ``removed = (F - B) - S``, ``destroyed = B - S``, and
``changed`` = objects of B still there with another fingerprint. Objects that belong to
pods still running (``attached``) are neither left nor removed: they are the pods'.

>>> b = {"chain KUBE-SERVICES (nat, nft)": "", "file /etc/cni/net.d/87-podman.conflist": "1"}
>>> f = {**b, "link cni0 (bridge)": "", "file /opt/cni/bin/flannel": "2"}
>>> s = {"file /opt/cni/bin/flannel": "2", "file /etc/cni/net.d/87-podman.conflist": "1"}
>>> d = classify(b, f, s)
>>> d.left, d.removed, d.destroyed
(['file /opt/cni/bin/flannel'], ['link cni0 (bridge)'], ['chain KUBE-SERVICES (nat, nft)'])
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

Objects = Mapping[str, str]  # object name -> fingerprint


@dataclass
class Delta:
    """One subject (a node, or the cluster) at one point, against B and F."""

    removed: list[str] = field(default_factory=list)  # the CNI's, gone
    left: list[str] = field(default_factory=list)  # the CNI's, still there
    destroyed: list[str] = field(default_factory=list)  # foreign, gone
    changed: list[str] = field(default_factory=list)  # foreign, still there, altered
    attached: list[str] = field(default_factory=list)  # the CNI's, held by live pods

    @property
    def collateral(self) -> list[str]:
        return self.destroyed + [f"{name} (changed)" for name in self.changed]

    def as_json(self) -> dict[str, Any]:
        return {
            "removed": self.removed,
            "left": self.left,
            "destroyed": self.destroyed,
            "changed": self.changed,
            "kept_by_running_pods": self.attached,
        }


def classify(
    baseline: Objects,
    installed: Objects,
    now: Objects,
    attached: Collection[str] = (),
) -> Delta:
    """The delta of ``now`` against B (``baseline``) and F (``installed``)."""
    owned = [name for name in installed if name not in baseline]
    held = set(attached)
    return Delta(
        removed=sorted(n for n in owned if n not in now),
        left=sorted(n for n in owned if n in now and n not in held),
        destroyed=sorted(n for n in baseline if n not in now),
        changed=sorted(n for n in baseline if n in now and now[n] != baseline[n]),
        attached=sorted(n for n in owned if n in now and n in held),
    )


def step_effect(before: Delta, after: Delta) -> Delta:
    """What one step did: objects that became removed/destroyed/changed during it, and
    objects it brought back (a CNI object re-created is *left* again)."""
    return Delta(
        removed=[n for n in after.removed if n not in before.removed],
        left=[n for n in after.left if n not in before.left],
        destroyed=[n for n in after.destroyed if n not in before.destroyed],
        changed=[n for n in after.changed if n not in before.changed],
        attached=[],
    )
