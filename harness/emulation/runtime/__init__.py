"""Emulated container-runtime pod networking (containerd CRI / CRI-O / dockershim).

Test emulation only, never a product component: run inside a sandbox node by the
emulated kubelet as ``python -m harness.emulation.runtime add|del|status|list``. It
creates the pod network namespace, selects the CNI config with the runtime's rules
(``confsel``), runs the REAL CNI plugins through a copy of libcni's exec protocol
(``libcni``), caches results like libcni, and reports failures in each runtime's exact
wording (``wording``). Facts: shared/reference/harness-anchors.md §5 and
flannel-footprint.md §3.5 and §4.
"""
