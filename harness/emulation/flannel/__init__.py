"""Flannel emulation for the sandbox test harness (test emulation, not Flannel itself).

Reproduces, per Flannel version, what ``kube-flannel.yml`` does on a node: the
``flannel-cni-plugin`` and ``flannel`` images (init containers and the flanneld agent)
and the flannel CNI plugin, from the facts in
``/work/shared/reference/flannel-footprint.md`` (cited per module as ``§x.y``).

Modules: :mod:`versions` (per-version behaviour, pure data), :mod:`netconf`,
:mod:`subnet_env`, :mod:`rules` (pure renderers), :mod:`trafficmgr_iptables`,
:mod:`trafficmgr_nft`, :mod:`backend_vxlan`, :mod:`backend_hostgw`, :mod:`kube`,
:mod:`flanneld` (the agent), :mod:`cni_plugin`, :mod:`image` (image handlers).
"""
