"""``kube-router [flags]``: entry of the kube-router emulation (test emulation).

Parses the flags (an unknown flag exits 1 with pflag's message), logs in klog shape
on stderr, runs ``--cleanup-config`` (:mod:`cleanup`) or the agent (:mod:`agent`)
against a :class:`~harness.emulation.kube_router.sources.ClusterSource`: the API
through the container's kubeconfig, or the one a light-node test passes.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from typing import TYPE_CHECKING

from harness.emulation.flannel.klog import KlogFormatter
from harness.emulation.kube_router.agent import (
    Agent,
    conf_file,
    install_signal_handlers,
    node_name,
)
from harness.emulation.kube_router.options import FlagError, parse_flags
from harness.emulation.kube_router.versions import kube_router_version

if TYPE_CHECKING:
    from harness.emulation.images.base import ContainerContext
    from harness.emulation.kube_router.sources import ClusterSource

log = logging.getLogger(__name__)


def setup_logging() -> None:
    """klog-shaped lines on stderr for ``harness.emulation.kube_router`` (idempotent)."""
    logger = logging.getLogger("harness.emulation.kube_router")
    if logger.handlers:
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(KlogFormatter())
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False


def main(
    argv: list[str],
    *,
    tag: str,
    ctx: ContainerContext | None = None,
    source: ClusterSource | None = None,
    stop: threading.Event | None = None,
) -> int:
    """kube-router with ``argv`` (the arguments after the program name)."""
    setup_logging()
    environ = {**os.environ, **(ctx.env if ctx else {})}
    try:
        opts = parse_flags(argv)
    except FlagError as e:
        sys.stderr.write(f"Error: {e}\n")
        return 1
    version = kube_router_version(tag)
    log.info("Running kube-router version %s (test emulation)", version.tag)
    if opts.cleanup_config:
        from harness.emulation.kube_router.cleanup import cleanup_config

        return cleanup_config()
    if source is None:
        from harness.emulation.flannel.kube import api_client  # any pod's client
        from harness.emulation.kube_router.sources import KubeSource

        fallback = ctx.kubeconfig if ctx else ""
        try:
            source = KubeSource(api_client(opts.kubeconfig, environ, fallback))
        except Exception as e:  # no usable client configuration
            log.error("Failed to build the Kubernetes client: %s", e)
            return 1
    stop = stop or threading.Event()
    if threading.current_thread() is threading.main_thread():
        install_signal_handlers(stop)
    name = node_name(opts, environ)
    agent = Agent(opts, version, source, name, conf_file(environ))
    return agent.run(stop)
