"""Connecting to a cluster with the official ``kubernetes`` client, an optional extra
of the package (``pip install 'cniscrub[cluster]'``): without it every ``cniscrub
cluster`` command stops with that hint, and the node cleaner is unaffected (nothing
else in cniscrub imports this module).

The kubeconfig is ``--kubeconfig``, else ``$KUBECONFIG``, else ``~/.kube/config``; in a
pod without one, the in-cluster service account. ``--context`` picks a context.
Requests carry the user agent ``cniscrub/<version>`` (audit logs tell them apart).

>>> user_agent("apply").endswith("(cluster apply)")
True
"""

from __future__ import annotations

import os
from pathlib import Path
from types import ModuleType
from typing import Any

from cniscrub import __version__
from cniscrub.cluster.errors import EXTRA_HINT, ConfigError, MissingExtra

DEFAULT_KUBECONFIG = Path("~/.kube/config")


def user_agent(command: str) -> str:
    return f"cniscrub/{__version__} (cluster {command})"


def kubernetes() -> ModuleType:
    """The ``kubernetes`` package, or a :class:`MissingExtra` that says how to get it."""
    try:
        import kubernetes as k8s
    except ImportError as exc:
        raise MissingExtra(
            "cniscrub cluster needs the official Kubernetes Python client, an "
            f"optional part of cniscrub: {EXTRA_HINT} ({exc})"
        ) from None
    return k8s


def _kubeconfig(path: str | None) -> str | None:
    if path:
        if not Path(path).expanduser().is_file():
            raise ConfigError(f"--kubeconfig {path}: no such file")
        return path
    env = os.environ.get("KUBECONFIG")
    if env:
        return env
    default = DEFAULT_KUBECONFIG.expanduser()
    return str(default) if default.is_file() else None


def connect(kubeconfig: str | None, context: str | None, command: str) -> Any:
    """An ``ApiClient`` for the chosen kubeconfig and context (or in-cluster)."""
    k8s = kubernetes()
    cfg = k8s.client.Configuration()
    path = _kubeconfig(kubeconfig)
    try:
        if path is not None:
            k8s.config.load_kube_config(
                config_file=path, context=context, client_configuration=cfg
            )
        elif os.environ.get("KUBERNETES_SERVICE_HOST") and context is None:
            k8s.config.load_incluster_config(client_configuration=cfg)
        else:
            raise ConfigError(
                "no kubeconfig: give --kubeconfig FILE, set KUBECONFIG, create "
                f"{DEFAULT_KUBECONFIG}, or run cniscrub in a pod of the cluster"
            )
    except k8s.config.ConfigException as exc:
        raise ConfigError(f"kubeconfig {path or '(in-cluster)'}: {exc}") from None
    cfg.retries = 2  # a server that does not answer fails fast, with its URL
    api = k8s.client.ApiClient(cfg)
    api.user_agent = user_agent(command)
    return api
