"""A Kubernetes API server **stand-in for tests**. It is never a product component.

No kube-apiserver can be installed on the sandbox machines, so this small
aiohttp server plays its part for kubectl 1.32 and the official ``kubernetes``
client: discovery, ``/openapi/v3`` for server-side validation, CRUD with
``Status`` errors, selectors, merge / JSON / strategic-merge patches, watches,
graceful pod deletion left to an emulated kubelet, namespace cascade and owner
garbage collection. Everything is in memory; no authentication; plain http on the
sockets it is given.

Modules: ``store`` (the in-process API; read its docstring first), ``server``
(``make_app``, ``serve``, ``start``), ``threaded`` (a server in a thread for sync
callers), ``kubeconfig`` (``write_kubeconfig``, ``find_kubectl``), ``resources``,
``selectors``, ``patching``, ``strategy``, ``lifecycle``, ``watching``, ``events``,
``discovery``, ``tables``, ``handlers``.
"""

from __future__ import annotations

from .errors import ApiError
from .kubeconfig import write_kubeconfig
from .resources import RESOURCES, ResourceType, lookup
from .server import RunningServer, make_app, serve, start
from .store import Store
from .watching import Change, WatchStream

__all__ = [
    "RESOURCES",
    "ApiError",
    "Change",
    "ResourceType",
    "RunningServer",
    "Store",
    "WatchStream",
    "lookup",
    "make_app",
    "serve",
    "start",
    "write_kubeconfig",
]
