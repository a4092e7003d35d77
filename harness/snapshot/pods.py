"""Which objects of a node belong to pods that are still running there.

A running pod keeps its network attachment (its veth, its IPAM lease, the CNI plugins'
per-container files) until its sandbox is torn down; those objects are the pod's, not
residue. They are recognised from the node alone, given the running pods' addresses:

* a link whose peer is in another network namespace (a pod's veth);
* an IPAM lease file named by a running pod's address, and every file whose name holds
  the container ID that lease records (scratch files, result caches).

>>> from harness.snapshot.node import NodeSnapshot
>>> s = NodeSnapshot("n", {"file /var/lib/cni/networks/cbr0/10.244.1.2": "",
...     "file /var/lib/cni/results/cbr0-abc123def4567-eth0": "", "link veth1 (veth)": ""},
...     leases={"/var/lib/cni/networks/cbr0/10.244.1.2": "abc123def4567"},
...     peered={"link veth1 (veth)"})
>>> for name in sorted(held_by_pods(s, {"10.244.1.2"})): print(name)
file /var/lib/cni/networks/cbr0/10.244.1.2
file /var/lib/cni/results/cbr0-abc123def4567-eth0
link veth1 (veth)
>>> sorted(held_by_pods(s, set()))
['link veth1 (veth)']
"""

from __future__ import annotations

from collections.abc import Collection

from harness.snapshot.node import NodeSnapshot


def held_by_pods(snap: NodeSnapshot, pod_ips: Collection[str]) -> set[str]:
    held = {name for name in snap.peered if name in snap.objects}
    ids = set()
    for path, owner in snap.leases.items():
        if path.rsplit("/", 1)[-1] in pod_ips:
            held.add(f"file {path}")
            if len(owner) >= 12:
                ids.add(owner)
    for name in snap.objects:
        if name.startswith("file ") and any(i in name for i in ids):
            held.add(name)
    return held
