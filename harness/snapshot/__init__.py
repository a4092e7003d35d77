"""Snapshots of node and cluster state as *named objects*, and their differences.

A snapshot maps a readable, stable object name to a fingerprint (what may change about
the object while it keeps its identity)::

    link cni0 (bridge)                                    -> ""
    route 10.244.2.0/24 via 10.244.2.0 dev flannel.1 onlink -> ""
    chain FORWARD (filter, nft)                           -> "ACCEPT"   (the policy)
    rule "-A INPUT -p tcp --dport 22 -j ACCEPT" (filter, nft) -> ""
    file /etc/cni/net.d/10-flannel.conflist               -> "644 <md5>"
    annotation flannel.alpha.coreos.com/backend-type on node/lab-worker -> ""

Nothing here knows a CNI: names come from the node's own tools (``ip -j``, ``bridge
-j``, ``iptables-*-save`` of both backends and families, ``nft list ruleset``,
``ipset``, ``find``) and the API, read through the ``Node`` protocol in **one** command
per node. Counters, dynamic neighbours and learned FDB entries, link-local addresses and
kernel-made local routes are left out: they change without anyone changing the node.

``node``     :func:`~harness.snapshot.node.collect` (one node -> objects)
``cluster``  :func:`~harness.snapshot.cluster.collect` (API objects, Node metadata)
``pods``     which objects belong to pods that are still running
``diff``     :func:`~harness.snapshot.diff.diff` (appeared / vanished / changed)
``state``    the public API for a whole cluster: ``snapshot_node(node)``,
             ``snapshot_cluster(cluster) -> ClusterSnapshot``,
             ``diff(before, after) -> StateDiff`` with a per-node ``text()``
"""

from __future__ import annotations

from collections.abc import Mapping

Objects = Mapping[str, str]  # object name -> fingerprint
