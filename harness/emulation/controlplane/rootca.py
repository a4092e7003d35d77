"""The root CA publisher of kube-controller-manager (test emulation): a ConfigMap
``kube-root-ca.crt`` with the cluster CA (key ``ca.crt``) in every namespace, made when
the namespace appears and again if someone deletes it. Pods' service-account volumes
read their ``ca.crt`` from it (:mod:`harness.emulation.apiserver.serviceaccounts`)."""

from __future__ import annotations

import logging
from typing import Any

from harness.emulation.apiserver.errors import ApiError
from harness.emulation.apiserver.serviceaccounts import ROOT_CA_CONFIGMAP
from harness.emulation.apiserver.store import Store
from harness.emulation.apiserver.watching import Change

log = logging.getLogger(__name__)


def _ensure(store: Store, namespace: dict[str, Any], ca_pem: str) -> None:
    meta = namespace["metadata"]
    if meta.get("deletionTimestamp"):
        return
    body = {
        "metadata": {"name": ROOT_CA_CONFIGMAP, "namespace": meta["name"]},
        "data": {"ca.crt": ca_pem},
    }
    try:
        store.create("configmaps", body, meta["name"])
    except ApiError as exc:
        if exc.code not in (403, 404, 409):  # exists, or the namespace is going
            log.warning("publishing %s in %s: %s", ROOT_CA_CONFIGMAP, meta["name"], exc)


def install(store: Store, ca_pem: str) -> None:
    """Publish into every namespace now and from now on."""
    for ns in store.list("namespaces"):
        _ensure(store, ns, ca_pem)

    def on_namespace(change: Change) -> None:
        if change.type == "ADDED":
            _ensure(store, change.obj, ca_pem)

    def on_configmap(change: Change) -> None:
        meta = change.obj["metadata"]
        if change.type == "DELETED" and meta["name"] == ROOT_CA_CONFIGMAP:
            try:
                _ensure(store, store.get("namespaces", meta["namespace"]), ca_pem)
            except ApiError:
                pass  # the namespace went with it

    store.subscribe("namespaces", on_namespace)
    store.subscribe("configmaps", on_configmap)
