"""The ``sandbox`` provider: cluster nodes made of Linux namespaces on this machine.

Each node is a *holder* process in new net + mount + uts + pid namespaces, with
overlayfs over ``/etc``, ``/opt`` and ``/var`` (upper dirs persist in the cluster's state
dir), a tmpfs on ``/run`` and the node's name as hostname. Nodes hang off a bridge in a
*fabric* namespace on 198.18.0.0/15. Reboot = SIGKILL the holder and start a fresh one on
the same upper dirs, which is exactly what a real reboot does to CNI state.

>>> from harness.providers.sandbox import SandboxProvider     # doctest: +SKIP
>>> cluster = SandboxProvider().create(ClusterSpec(name="lab", nodes=3))  # doctest: +SKIP

The names below are imported lazily: processes that run inside nodes (the container
shim) import small submodules of this package and must not pay for netlink imports.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from harness.providers.sandbox.provider import SandboxCluster, SandboxProvider

__all__ = ["SandboxCluster", "SandboxProvider"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from harness.providers.sandbox import provider

        return getattr(provider, name)
    raise AttributeError(name)
