"""Service-account tokens for pods, as the API server's ServiceAccount admission plugin
and the kubelet give them (a test stand-in, never a product component).

On create, every pod that does not opt out (``automountServiceAccountToken: false``)
gets a projected volume ``kube-api-access-<5 chars>`` (token, the cluster CA from the
``kube-root-ca.crt`` ConfigMap, the namespace) mounted read-only at
``/var/run/secrets/kubernetes.io/serviceaccount`` in every container - what client-go's
in-cluster config reads (fact: real-flannel.md §2 "Both flags empty: in-cluster config").
The kubelet writes the files; :func:`issue_token` makes the token (a JWT the stand-in,
which authenticates nobody, never checks).

>>> pod = {"metadata": {"namespace": "ns"}, "spec": {"containers": [{"name": "c"}]}}
>>> admit_pod(pod); pod["spec"]["containers"][0]["volumeMounts"][0]["mountPath"]
'/var/run/secrets/kubernetes.io/serviceaccount'
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from typing import Any

__all__ = ["MOUNT_PATH", "ROOT_CA_CONFIGMAP", "admit_pod", "issue_token"]

MOUNT_PATH = "/var/run/secrets/kubernetes.io/serviceaccount"
ROOT_CA_CONFIGMAP = "kube-root-ca.crt"  # published in every namespace
TOKEN_SECONDS = 3607  # the admission plugin's expirationSeconds
_SUFFIX_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"  # apimachinery utilrand


def _volume(name: str) -> dict[str, Any]:
    return {
        "name": name,
        "projected": {
            "defaultMode": 420,
            "sources": [
                {
                    "serviceAccountToken": {
                        "expirationSeconds": TOKEN_SECONDS,
                        "path": "token",
                    }
                },
                {
                    "configMap": {
                        "name": ROOT_CA_CONFIGMAP,
                        "items": [{"key": "ca.crt", "path": "ca.crt"}],
                    }
                },
                {
                    "downwardAPI": {
                        "items": [
                            {
                                "path": "namespace",
                                "fieldRef": {
                                    "apiVersion": "v1",
                                    "fieldPath": "metadata.namespace",
                                },
                            }
                        ]
                    }
                },
            ],
        },
    }


def admit_pod(pod: dict[str, Any]) -> None:
    """Add the token volume and its mounts to a pod being created (in place)."""
    spec = pod.setdefault("spec", {})
    if spec.get("automountServiceAccountToken") is False:
        return
    containers = [*(spec.get("initContainers") or []), *(spec.get("containers") or [])]
    if any(
        m.get("mountPath") == MOUNT_PATH
        for c in containers
        for m in c.get("volumeMounts") or []
    ):
        return
    name = "kube-api-access-" + "".join(
        secrets.choice(_SUFFIX_ALPHABET) for _ in range(5)
    )
    spec["volumes"] = [*(spec.get("volumes") or []), _volume(name)]
    for c in containers:
        mount = {"name": name, "readOnly": True, "mountPath": MOUNT_PATH}
        c["volumeMounts"] = [*(c.get("volumeMounts") or []), mount]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def issue_token(pod: dict[str, Any], key: bytes, now: float | None = None) -> str:
    """A bound service-account token (HS256 JWT) for ``pod``."""
    meta, spec = pod["metadata"], pod.get("spec") or {}
    issued = int(now if now is not None else time.time())
    sa = spec.get("serviceAccountName") or "default"
    claims = {
        "iss": "https://kubernetes.default.svc.cluster.local",
        "sub": f"system:serviceaccount:{meta['namespace']}:{sa}",
        "aud": ["https://kubernetes.default.svc.cluster.local"],
        "iat": issued,
        "nbf": issued,
        "exp": issued + TOKEN_SECONDS,
        "kubernetes.io": {
            "namespace": meta["namespace"],
            "pod": {"name": meta.get("name", ""), "uid": meta.get("uid", "")},
            "serviceaccount": {"name": sa},
        },
    }
    head = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = _b64(json.dumps(claims, separators=(",", ":")).encode())
    mac = hmac.new(key, f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{_b64(mac)}"
