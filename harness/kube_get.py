"""``kubectl get ... -o json`` for the reads the harness repeats in its bounded waits,
answered through one kept official-client connection (:func:`harness.kube.api_get`)
instead of a kubectl process per read: a kubectl process costs ~60 ms of CPU, the
kept connection well under 1 ms, and a wait polls several times a second.

Only plain reads are translated (``get RESOURCE [NAME] [-n NS | -A] [-l SEL]
[--field-selector SEL]``); anything else goes to kubectl itself. List items get the
``kind`` and ``apiVersion`` kubectl adds to them, so callers see kubectl's output.

>>> api_path(["get", "pods", "-n", "kube-flannel", "-l", "app=flannel"])
('/api/v1/namespaces/kube-flannel/pods?labelSelector=app%3Dflannel', 'Pod', 'v1')
>>> api_path(["get", "daemonset", "kube-flannel-ds", "-n", "kube-flannel"])[0]
'/apis/apps/v1/namespaces/kube-flannel/daemonsets/kube-flannel-ds'
>>> api_path(["get", "events", "--field-selector", "reason=FailedCreatePodSandBox"])[0]
'/api/v1/namespaces/default/events?fieldSelector=reason%3DFailedCreatePodSandBox'
>>> api_path(["get", "nodes"])[0], api_path(["get", "pods", "-o", "wide"])
('/api/v1/nodes', None)
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from harness.kube import HasKubeconfig, api_get, kubectl_json

# resource (as typed) -> (group path, plural, Kind, namespaced)
RESOURCES = {
    "nodes": ("/api/v1", "nodes", "Node", False),
    "namespaces": ("/api/v1", "namespaces", "Namespace", False),
    "pods": ("/api/v1", "pods", "Pod", True),
    "events": ("/api/v1", "events", "Event", True),
    "daemonsets": ("/apis/apps/v1", "daemonsets", "DaemonSet", True),
    "deployments": ("/apis/apps/v1", "deployments", "Deployment", True),
}
ALIASES = {
    "node": "nodes",
    "namespace": "namespaces",
    "ns": "namespaces",
    "pod": "pods",
}
ALIASES |= {"event": "events", "daemonset": "daemonsets", "ds": "daemonsets"}
ALIASES |= {"deployment": "deployments", "deploy": "deployments"}
_FLAGS = {"-n": "namespace", "-l": "labelSelector", "--field-selector": "fieldSelector"}


def api_path(args: list[str]) -> tuple[str, str, str] | None:
    """The API path, list item Kind and apiVersion of a plain ``kubectl get``, or None
    when kubectl itself must answer."""
    if len(args) < 2 or args[0] != "get":
        return None
    resource = ALIASES.get(args[1], args[1])
    if resource not in RESOURCES:
        return None
    group, plural, kind, namespaced = RESOURCES[resource]
    name, options, every, rest = None, {}, False, args[2:]
    while rest:
        word = rest.pop(0)
        if word in _FLAGS and rest:
            options[_FLAGS[word]] = rest.pop(0)
        elif word in ("-A", "--all-namespaces"):
            every = True
        elif not word.startswith("-") and name is None:
            name = word
        else:
            return None
    namespace = options.pop("namespace", "default")
    where = f"/namespaces/{namespace}" if namespaced and not every else ""
    path = f"{group}{where}/{plural}" + (f"/{name}" if name else "")
    if options:
        path += "?" + urlencode(options)
    version = group.removeprefix("/api/").removeprefix("/apis/")
    return path, kind, version


def get_json(cluster: HasKubeconfig, *args: str) -> Any:
    """What ``kubectl ARGS -o json`` prints, read through the kept connection."""
    found = api_path(list(args))
    if found is None:
        return kubectl_json(cluster, *args)
    path, kind, version = found
    data = api_get(cluster, path)
    for item in data.get("items", ()) if isinstance(data, dict) else ():
        item.setdefault("kind", kind)
        item.setdefault("apiVersion", version)
    return data
