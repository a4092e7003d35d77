"""Hook the control plane into sandbox cluster creation."""

from __future__ import annotations

from harness.providers.sandbox.provider import SandboxCluster, SandboxProvider


def install(provider: SandboxProvider) -> None:
    """Start a control plane after nodes are up, for specs that ask for one."""
    provider.post_create.append(_start)


def _start(cluster: SandboxCluster) -> None:
    # filled in by the control-plane launcher once the API stand-in exists
    return None
