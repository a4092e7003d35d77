"""Sandbox stand-ins for what cannot run on this machine.

Everything here is test emulation, never a product component: the Kubernetes API
stand-in, the kubelet/runtime behaviour, the DaemonSet controller, and the emulated
container images (flanneld, the flannel CNI plugin). Each emulated behaviour is pinned by
a test that cites the fact in ``shared/reference/``.
"""
