"""Flannel emulation for the sandbox test harness (test emulation, not Flannel itself).

Reproduces, per Flannel version, what ``kube-flannel.yml`` does on a node: the
``flannel-cni-plugin`` and ``flannel`` images (init containers and the flanneld agent)
and the flannel CNI plugin, from the facts in
``/work/shared/reference/flannel-footprint.md`` (cited per module as ``§x.y``).

Modules:

- pure: :mod:`versions` (per-version behaviour), :mod:`netconf`, :mod:`subnet_env`,
  :mod:`rules` (iptables lines, nft scripts), :mod:`model` (Peer, LocalNode, leases),
  :mod:`options` (flanneld flags), :mod:`checks` (start-up errors);
- the agent: :mod:`flanneld` (entry ``main(argv, version=, ctx=)``), :mod:`agent_net`
  (external interface, backend facade), :mod:`backend_vxlan`, :mod:`backend_hostgw`,
  :mod:`traffic` (per-version lifecycle) over :mod:`trafficmgr_iptables` and
  :mod:`trafficmgr_nft`, :mod:`kube` (API), :mod:`healthz`, :mod:`klog`;
  :mod:`standalone` runs the agent from a JSON state file instead of the API (tests);
- the CNI plugin: :mod:`cni_plugin` (+ :mod:`cni_errors`, :mod:`cni_delegate`);
- :mod:`image`: the ``flannel`` and ``flannel-cni-plugin`` image handlers.
"""
