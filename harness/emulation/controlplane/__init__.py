"""The sandbox control plane: API stand-in + kubelet/runtime + DaemonSet controller,
one process per cluster (test emulation, never a product component)."""
