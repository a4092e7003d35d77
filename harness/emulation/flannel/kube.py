"""The kube subnet manager of the flanneld emulation (test emulation; §2.1, §2.7).

Talks to the API stand-in with the official ``kubernetes`` client, configured as
flanneld's client is (:func:`api_client`: in-cluster in a pod): reads this Node,
patches annotations and the ``NetworkUnavailable=False/FlannelIsUp`` condition through
the **status** subresource (RBAC ``nodes/status patch``), and watches Nodes for peers
(list + watch, falling back to a 1 s relist when watch is not available).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import threading
from collections.abc import Callable
from typing import Any

from harness.emulation.flannel.model import (
    CONDITION,
    LocalNode,
    Peer,
    local_node,
    node_to_peer,
)

log = logging.getLogger(__name__)
SMP = "application/strategic-merge-patch+json"


SA_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"


def api_client(kubeconfig_file: str, environ: dict[str, str], fallback: str) -> Any:
    """The client flanneld's ``BuildConfigFromFlags`` would build (real-flannel.md §2):
    ``--kubeconfig-file`` when given, else in-cluster config (https to
    ``$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT`` with the pod's service-account
    token and ``ca.crt``). ``fallback`` (a kubeconfig) serves only image tests that run
    flanneld outside a pod, where real flanneld would exit."""
    from kubernetes import client, config

    if kubeconfig_file:
        return config.new_client_from_config(config_file=kubeconfig_file)
    host, port = (environ.get(f"KUBERNETES_SERVICE_{k}") for k in ("HOST", "PORT"))
    if host and port and os.path.exists(f"{SA_DIR}/token"):
        configuration = client.Configuration()
        loader = config.incluster_config.InClusterConfigLoader(
            token_filename=f"{SA_DIR}/token",
            cert_filename=f"{SA_DIR}/ca.crt",
            environ={"KUBERNETES_SERVICE_HOST": host, "KUBERNETES_SERVICE_PORT": port},
        )
        loader.load_and_set(configuration)
        return client.ApiClient(configuration)
    return config.new_client_from_config(config_file=fallback)


class KubeNodeSource:
    """:class:`flanneld.NodeSource` backed by the Kubernetes API."""

    def __init__(self, api: Any, node_name: str) -> None:
        from kubernetes import client

        self._api_client = api
        self._v1 = client.CoreV1Api(self._api_client)
        self.node_name = node_name

    def _node_dict(self, node: Any) -> dict[str, Any]:
        d: dict[str, Any] = self._api_client.sanitize_for_serialization(node)
        return d

    def local_node(self) -> LocalNode:
        """This node as flanneld sees it at start."""
        return local_node(self._node_dict(self._v1.read_node(self.node_name)))

    def publish(self, annotations: dict[str, str]) -> None:
        """Patch the lease annotations via ``nodes/status`` (§2.7)."""
        body = {"metadata": {"annotations": annotations}}
        self._v1.patch_node_status(self.node_name, body, _content_type=SMP)

    def set_condition(self) -> None:
        """``NetworkUnavailable=False`` / FlannelIsUp (§2.7 CompleteLease)."""
        now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        cond = {**CONDITION, "lastTransitionTime": now, "lastHeartbeatTime": now}
        body = {"status": {"conditions": [cond]}}
        self._v1.patch_node_status(self.node_name, body, _content_type=SMP)

    def _peers(self, nodes: list[Any]) -> list[Peer]:
        out = []
        for node in nodes:
            d = self._node_dict(node)
            if (d.get("metadata") or {}).get("name") == self.node_name:
                continue
            peer = node_to_peer(d)
            if peer is not None:
                out.append(peer)
        return out

    def watch(
        self, on_peers: Callable[[list[Peer]], None], stop: threading.Event
    ) -> None:
        """Report the full peer list on every change until ``stop`` is set."""
        from kubernetes import watch

        last: list[Peer] | None = None
        while not stop.is_set():
            try:
                listing = self._v1.list_node()
                nodes = {n.metadata.name: n for n in listing.items}  # type: ignore[union-attr]
                last = self._emit(on_peers, list(nodes.values()), last)
                w = watch.Watch()
                for event in w.stream(
                    self._v1.list_node,
                    resource_version=listing.metadata.resource_version,  # type: ignore[union-attr]
                    timeout_seconds=2,
                ):
                    obj = event["object"]
                    if event["type"] == "DELETED":
                        nodes.pop(obj.metadata.name, None)
                    else:
                        nodes[obj.metadata.name] = obj
                    last = self._emit(on_peers, list(nodes.values()), last)
                    if stop.is_set():
                        w.stop()
                        break
            except Exception as e:  # the stand-in may not support watch
                log.debug("node watch: %s; relisting", e)
                stop.wait(1.0)

    def _emit(
        self,
        on_peers: Callable[[list[Peer]], None],
        nodes: list[Any],
        last: list[Peer] | None,
    ) -> list[Peer]:
        peers = sorted(self._peers(nodes), key=lambda p: p.name)
        if peers != last:
            on_peers(peers)
        return peers
