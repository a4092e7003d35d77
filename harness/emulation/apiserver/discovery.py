"""Discovery and OpenAPI documents of the Kubernetes API stand-in (a test stand-in,
never a product component), built once from the resource registry.

Shapes follow what kubectl 1.32 and client-go accept (see
``shared/reference/kube-api-standin.md`` section 1.6): plain JSON discovery (kubectl
falls back from aggregated discovery), ``groupVersion`` exactly ``v1`` for the core
group, and an OpenAPI v3 index whose per-group-version documents hold one PATCH path per
kind with ``x-kubernetes-group-version-kind`` and a ``fieldValidation`` parameter, so
kubectl delegates validation to the server and ``kubectl apply -f`` needs no
``--validate=false``. There are no schemas: kubectl then computes strategic merge
patches from its built-in types, as it does against any server.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from .resources import RESOURCES, ResourceType, group_versions

__all__ = ["KUBE_VERSION", "Discovery"]

KUBE_VERSION = {
    "major": "1",
    "minor": "32",
    "gitVersion": "v1.32.4-cniscrub-standin",
    "gitCommit": "0000000000000000000000000000000000000000",
    "gitTreeState": "clean",
    "buildDate": "2026-11-27T00:00:00Z",
    "goVersion": "go1.23.6",
    "compiler": "gc",
    "platform": "linux/amd64",
}


_READ_ONLY_SUBS = ("log",)


def _gv_path(group: str, version: str) -> str:
    return f"apis/{group}/{version}" if group else f"api/{version}"


def _resource_entries(rt: ResourceType) -> list[dict[str, Any]]:
    main: dict[str, Any] = {
        "name": rt.plural,
        "singularName": rt.singular,
        "namespaced": rt.namespaced,
        "kind": rt.kind,
        "verbs": list(rt.verbs),
        "storageVersionHash": hashlib.sha256(str(rt).encode()).hexdigest()[:12],
    }
    if rt.short_names:
        main["shortNames"] = list(rt.short_names)
    if rt.categories:
        main["categories"] = list(rt.categories)
    subs = [
        {
            "name": f"{rt.plural}/{sub}",
            "singularName": "",
            "namespaced": rt.namespaced,
            "kind": rt.kind,
            "verbs": ["get"] if sub in _READ_ONLY_SUBS else ["get", "patch", "update"],
        }
        for sub in rt.subresources
    ]
    return [main, *subs]


def _openapi_doc(group: str, version: str) -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for rt in RESOURCES:
        if (rt.group, rt.version) != (group, version):
            continue
        path = rt.path(namespace="{namespace}", name="{name}")
        paths[path] = {
            "patch": {
                "operationId": f"patch{rt.kind}",
                "x-kubernetes-action": "patch",
                "x-kubernetes-group-version-kind": {
                    "group": rt.group,
                    "version": rt.version,
                    "kind": rt.kind,
                },
                "parameters": [
                    {
                        "name": "fieldValidation",
                        "in": "query",
                        "description": "validation is done by the server",
                        "schema": {"type": "string", "uniqueItems": True},
                    }
                ],
                "responses": {"200": {"description": "OK"}},
            }
        }
    return {
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": KUBE_VERSION["gitVersion"]},
        "paths": paths,
        "components": {"schemas": {}},
    }


class Discovery:
    """Every discovery and OpenAPI v3 document, pre-serialised."""

    def __init__(self) -> None:
        self.version = KUBE_VERSION
        self.api = {"kind": "APIVersions", "versions": ["v1"]}
        groups = []
        self.groups: dict[str, dict[str, Any]] = {}
        self.resource_lists: dict[str, dict[str, Any]] = {}
        self.openapi_docs: dict[str, bytes] = {}
        index: dict[str, Any] = {}
        for group, version in group_versions():
            gv = f"{group}/{version}" if group else version
            self.resource_lists[_gv_path(group, version)] = {
                "kind": "APIResourceList",
                "apiVersion": "v1",
                "groupVersion": gv,
                "resources": [
                    entry
                    for rt in RESOURCES
                    if (rt.group, rt.version) == (group, version)
                    for entry in _resource_entries(rt)
                ],
            }
            doc = json.dumps(_openapi_doc(group, version)).encode()
            digest = hashlib.sha512(doc).hexdigest()[:64].upper()
            self.openapi_docs[_gv_path(group, version)] = doc
            index[_gv_path(group, version)] = {
                "serverRelativeURL": f"/openapi/v3/{_gv_path(group, version)}"
                f"?hash={digest}"
            }
            if group:
                entry = {"groupVersion": gv, "version": version}
                api_group = {
                    "kind": "APIGroup",
                    "apiVersion": "v1",
                    "name": group,
                    "versions": [entry],
                    "preferredVersion": entry,
                }
                self.groups[group] = api_group
                groups.append(
                    {
                        k: v
                        for k, v in api_group.items()
                        if k not in ("kind", "apiVersion")
                    }
                )
        self.apis = {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}
        self.openapi_index = {"paths": index}
