"""Emulated kubelet: runs a node's pods as processes inside the sandbox node (test
emulation, never a product component). ``shim`` is the per-container process inside the
node; ``kubelet`` drives pod lifecycles from the control-plane process."""
