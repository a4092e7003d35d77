"""kube-router emulation for the sandbox test harness (test emulation, not kube-router).

Reproduces what ``kubeadm-kuberouter.yaml`` (router + firewall, kube-proxy kept) does on
a node, from ``/work/shared/reference/kube-router-footprint.md`` (cited per module as
``§x.y``): the image's ``install-cni`` init container and the kube-router agent.

Modules:

- pure: :mod:`versions` (per-tag behaviour), :mod:`options` (flags), :mod:`model`
  (Node data: pod CIDR choice, ipset members, tunnel names), :mod:`cniconf` (the conf
  rewrite), :mod:`rules` (routes-controller iptables rules), :mod:`netpol` (the
  network policy controller's chains);
- side effects: :mod:`iptables` (iptables/ipset commands), :mod:`routing` (kube-bridge,
  proto-17 routes, the table-77 rule, tunnels over netlink), :mod:`sockets` (179,
  50051, 20244 and the stand-in for BGP sessions), :mod:`peering` (routes per peer,
  graceful restart), :mod:`firewall` (full syncs), :mod:`sources` (Nodes/Pods from the
  API or a JSON file);
- the agent: :mod:`agent`, entry :mod:`main`; :mod:`standalone` runs it from a JSON
  file in a light node; :mod:`cleanup` is ``--cleanup-config``;
- the image: :mod:`image` (handler), :mod:`image_files`, :mod:`cni_install`.
"""
