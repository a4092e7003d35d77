"""Which objects of a node belong to pods that are still running there.

A running pod keeps its network attachment (its veth, its IPAM lease, the CNI plugins'
per-container files) until its sandbox is torn down; those objects are the pod's, not
residue. They are recognised from the node alone, given the running pods' addresses:

* a link whose peer is in another network namespace (a pod's veth);
* an IPAM lease file named by a running pod's address, and every file whose name holds
  the container ID that lease records (scratch files, result caches);
* a directory holding any of those files.

>>> from harness.snapshot.node import NodeSnapshot
>>> s = NodeSnapshot("n", {"file /var/lib/cni/networks/cbr0/10.244.1.2": "",
...     "file /var/lib/cni/results/cbr0-abc123def4567-eth0": "", "link veth1 (veth)": ""},
...     leases={"/var/lib/cni/networks/cbr0/10.244.1.2": "abc123def4567"},
...     peered={"link veth1 (veth)"})
>>> for name in sorted(held_by_pods(s, {"10.244.1.2"})): print(name)
file /var/lib/cni/networks/cbr0/10.244.1.2
file /var/lib/cni/results/cbr0-abc123def4567-eth0
link veth1 (veth)
>>> owners = {}
>>> _ = held_by_pods(s, {"10.244.1.2"}, owners)
>>> s.leases = {}
>>> sorted(held_by_pods(s, {"10.244.1.2"}, owners))   # the lease is gone, the pod is not
['file /var/lib/cni/results/cbr0-abc123def4567-eth0', 'link veth1 (veth)']
>>> sorted(held_by_pods(s, set()))
['link veth1 (veth)']
"""

from __future__ import annotations

from collections.abc import Collection

from harness.snapshot.node import NodeSnapshot


def held_by_pods(
    snap: NodeSnapshot, pod_ips: Collection[str], owners: dict[str, str] | None = None
) -> set[str]:
    """The objects of ``snap`` that running pods (``pod_ips``) hold. ``owners``
    (container ID -> pod address) carries what earlier snapshots learnt from lease
    files, so a pod's files stay its own after a cleaner removed its lease; IDs whose
    pod is gone are forgotten (an address may be handed out again)."""
    owners = {} if owners is None else owners
    for path, owner in snap.leases.items():
        if len(owner) >= 12:
            owners[owner] = path.rsplit("/", 1)[-1]
    for container in [c for c, ip in owners.items() if ip not in pod_ips]:
        del owners[container]
    held = {name for name in snap.peered if name in snap.objects}
    held |= {f"file {p}" for p in snap.leases if p.rsplit("/", 1)[-1] in pod_ips}
    files = [n for n in snap.objects if n.startswith("file ")]
    held |= {n for n in files if any(c in n for c in owners)}
    paths = [n.split(" ", 1)[1] for n in held if n.startswith("file ")]
    held |= {
        n
        for n in snap.objects
        if n.startswith("dir ") and any(p.startswith(n[4:] + "/") for p in paths)
    }
    return held
