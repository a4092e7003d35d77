"""Read what a CNI left in the cluster (read-only): its objects found by the
footprint's names and labels, its agent pods per node, every node's readiness and the
annotations and condition the CNI wrote, what else lives in its namespace, and which
other CNI (if any) is installed next.

Every object carries its evidence ("named kube-flannel-ds in the Flannel manifest",
"label app=flannel"); nothing is the CNI's without one.

>>> selector_matches("app=flannel,tier", {"app": "flannel", "tier": "node"})
True
>>> selector_matches("k8s-app=flannel", {"k8s-app": "kube-router"})
False
"""

from __future__ import annotations

import logging
from typing import Any

from cniscrub import footprints
from cniscrub.cluster.api import Api
from cniscrub.cluster.kinds import NAMESPACE_CONTENT, PROTECTED_NAMESPACES
from cniscrub.cluster.model import AgentPod, ClusterState, Found, NextCni, NodeState
from cniscrub.footprints.spec import ClusterFootprint, FootprintSpec

log = logging.getLogger(__name__)
POD_SECURITY = "pod-security.kubernetes.io/"
CNI_CONF_DIR = "/etc/cni/net.d"
# what the API server and controllers put in every namespace by themselves
AUTOMATIC = {("ConfigMap", "kube-root-ca.crt"), ("ServiceAccount", "default")}
Obj = dict[str, Any]


def selector_matches(selector: str, labels: dict[str, str] | None) -> bool:
    """Whether ``labels`` match an equality-based label selector."""
    labels = labels or {}
    for term in (t.strip() for t in selector.split(",") if t.strip()):
        if "!=" in term:
            key, value = (x.strip() for x in term.split("!=", 1))
            ok = labels.get(key) != value
        elif "=" in term:
            key, value = (x.strip() for x in term.replace("==", "=").split("=", 1))
            ok = labels.get(key) == value
        elif term.startswith("!"):
            ok = term[1:] not in labels
        else:
            ok = term in labels
        if not ok:
            return False
    return True


def _key(obj: Obj, kind_name: str) -> tuple[str, str | None, str]:
    meta = obj["metadata"]
    return (kind_name, meta.get("namespace"), meta["name"])


def find_objects(api: Api, spec: FootprintSpec) -> list[Found]:
    """The CNI's objects: by the manifest's names, by the footprint's labels on
    objects of the same kinds anywhere, and what its DaemonSets' pods use (their
    service account and ConfigMaps)."""
    cluster = spec.cluster or ClusterFootprint()
    found: dict[tuple[str, str | None, str], tuple[Obj, list[str]]] = {}
    for wanted in cluster.objects:
        obj = api.find(wanted.kind, wanted.name, wanted.namespace)
        if obj is not None:
            why = f"named {wanted.name} in the {spec.title} manifest"
            found.setdefault(_key(obj, wanted.kind), (obj, []))[1].append(why)
    for kind_name in dict.fromkeys(o.kind for o in cluster.objects):
        for selector in cluster.labels:
            for obj in api.list(kind_name, labels=selector):
                why = f"label {selector}"
                found.setdefault(_key(obj, kind_name), (obj, []))[1].append(why)
    for (kind_name, ns, name), (obj, _) in list(found.items()):
        if kind_name != "DaemonSet":
            continue
        for ref_kind, ref_name in used_by(obj):
            ref = api.find(ref_kind, ref_name, ns)
            if ref is not None:
                why = f"used by DaemonSet {ns}/{name}"
                found.setdefault(_key(ref, ref_kind), (ref, []))[1].append(why)
    return [
        Found(k, name, ns, obj["metadata"].get("uid", ""), tuple(why))
        for (k, ns, name), (obj, why) in found.items()
    ]


def used_by(ds: Obj) -> list[tuple[str, str]]:
    """The service account and ConfigMaps a DaemonSet's pods use (its namespace),
    except those Kubernetes makes for every namespace.

    >>> used_by({"spec": {"template": {"spec": {"serviceAccountName": "flannel",
    ...     "volumes": [{"configMap": {"name": "kube-flannel-cfg"}}, {"hostPath": {}}]}}}})
    [('ServiceAccount', 'flannel'), ('ConfigMap', 'kube-flannel-cfg')]
    """
    pod = ((ds.get("spec") or {}).get("template") or {}).get("spec") or {}
    refs = []
    account = pod.get("serviceAccountName") or pod.get("serviceAccount")
    if account:
        refs.append(("ServiceAccount", str(account)))
    for volume in pod.get("volumes") or []:
        name = (volume.get("configMap") or {}).get("name")
        if name:
            refs.append(("ConfigMap", str(name)))
    return [r for r in refs if r not in AUTOMATIC]


def find_pods(api: Api, spec: FootprintSpec, objects: list[Found]) -> list[AgentPod]:
    """The agent's pods: those of its DaemonSets, and any matching its pod labels."""
    owners = {o.uid: o.ref for o in objects if o.kind == "DaemonSet"}
    pods: dict[str, Obj] = {}
    for selector in spec.cluster.pod_labels if spec.cluster else ():
        for pod in api.list("Pod", labels=selector):
            pods[pod["metadata"]["uid"]] = pod
    for ds in (o for o in objects if o.kind == "DaemonSet"):
        for pod in api.list("Pod", ds.namespace):
            refs = pod["metadata"].get("ownerReferences") or []
            if any(r.get("uid") == ds.uid for r in refs):
                pods[pod["metadata"]["uid"]] = pod
    out = []
    for pod in pods.values():
        meta = pod["metadata"]
        refs = meta.get("ownerReferences") or []
        owner = next((owners[r["uid"]] for r in refs if r.get("uid") in owners), None)
        out.append(
            AgentPod(
                meta["namespace"],
                meta["name"],
                (pod.get("spec") or {}).get("nodeName") or "",
                (pod.get("status") or {}).get("phase") or "Pending",
                bool(meta.get("deletionTimestamp")),
                owner,
            )
        )
    return sorted(out, key=lambda p: (p.node, p.ref))


def node_state(node: Obj, cluster: ClusterFootprint) -> NodeState:
    """Readiness, and the CNI's annotations and condition, of one Node object."""
    meta, status = node["metadata"], node.get("status") or {}
    conditions = status.get("conditions") or []
    ready: Obj = next((c for c in conditions if c.get("type") == "Ready"), {})
    annotations = tuple(
        sorted(
            k
            for k in meta.get("annotations") or {}
            if any(k.startswith(p) for p in cluster.node_annotation_prefixes)
        )
    )
    reasons = cluster.node_condition_reasons
    same = [
        (i, c)
        for i, c in enumerate(conditions)
        if c.get("type") == cluster.node_condition_type
    ]
    ours = [(i, c) for i, c in same if c.get("reason") in reasons]
    kept = [c for _, c in same if c.get("reason") not in reasons]
    return NodeState(
        meta["name"],
        str(ready.get("status") or ""),
        str(ready.get("reason") or ""),
        annotations,
        dict(ours[0][1]) if ours else None,
        dict(kept[0]) if kept else None,
        ours[0][0] if ours else None,
    )


def foreign_content(
    api: Api, namespace: str, ours: set[tuple[str, str]], owners: set[str]
) -> list[str]:
    """Objects in ``namespace`` that are neither the CNI's (``ours``: kind and name;
    or owned by one of ``owners``' uids) nor made by Kubernetes in every namespace."""
    out = []
    for kind_name in NAMESPACE_CONTENT:
        for obj in api.list(kind_name, namespace):
            meta = obj["metadata"]
            key = (kind_name, meta["name"])
            refs = {r.get("uid") for r in meta.get("ownerReferences") or []}
            if key in ours or key in AUTOMATIC or refs & owners:
                continue
            if obj.get("type") == "kubernetes.io/service-account-token":
                continue
            out.append(f"{kind_name} {meta['name']}")
    return out


def find_next_cni(api: Api, spec: FootprintSpec, objects: list[Found]) -> list[NextCni]:
    """Other CNIs' DaemonSets: one of another footprint (by name or label), or any
    DaemonSet that mounts the node's CNI config directory."""
    ours = {o.uid for o in objects}
    others = []
    for name in footprints.names():
        if name == spec.name:
            continue
        other = footprints.get(name)
        if other.cluster is not None:
            others.append(other)
    found = []
    for ds in api.list("DaemonSet"):
        meta = ds["metadata"]
        if meta.get("uid") in ours:
            continue
        ref = f"DaemonSet {meta['namespace']}/{meta['name']}"
        hit = _footprint_of(ds, others)
        if hit is not None:
            found.append(NextCni(hit[0], ref, hit[1]))
        elif _mounts_cni_conf(ds):
            found.append(NextCni("unknown", ref, f"mounts the node's {CNI_CONF_DIR}"))
    return found


def _footprint_of(ds: Obj, others: list[FootprintSpec]) -> tuple[str, str] | None:
    meta = ds["metadata"]
    for other in others:
        assert other.cluster is not None
        for obj in other.cluster.objects:
            if obj.kind == "DaemonSet" and obj.name == meta["name"]:
                return other.name, f"named {obj.name} in the {other.title} manifest"
        for selector in other.cluster.labels:
            if selector_matches(selector, meta.get("labels")):
                return other.name, f"label {selector}"
    return None


def _mounts_cni_conf(ds: Obj) -> bool:
    template = (ds.get("spec") or {}).get("template") or {}
    volumes = (template.get("spec") or {}).get("volumes") or []
    paths = [(v.get("hostPath") or {}).get("path", "") for v in volumes]
    return any(p.rstrip("/") in (CNI_CONF_DIR, "/etc/cni") for p in paths)


def discover(api: Api, spec: FootprintSpec, node_selector: str | None) -> ClusterState:
    """Everything the plan needs, read from the API."""
    cluster = spec.cluster or ClusterFootprint()
    state = ClusterState(spec.name, api.server)
    state.objects = find_objects(api, spec)
    state.pods = find_pods(api, spec, state.objects)
    nodes = api.list("Node", labels=node_selector)
    state.nodes = sorted((node_state(n, cluster) for n in nodes), key=lambda n: n.name)
    ours = {(o.kind, o.name) for o in state.objects}
    ours |= {("Pod", p.name) for p in state.pods}
    owners = {o.uid for o in state.objects}
    for ns in (o for o in state.objects if o.kind == "Namespace"):
        if ns.name in PROTECTED_NAMESPACES:
            continue
        obj = api.find("Namespace", ns.name) or {}
        labels = (obj.get("metadata") or {}).get("labels") or {}
        state.namespace_labels[ns.name] = {
            k: v for k, v in labels.items() if k.startswith(POD_SECURITY)
        }
        state.foreign[ns.name] = foreign_content(api, ns.name, ours, owners)
    state.next_cni = find_next_cni(api, spec, state.objects)
    if node_selector and not state.nodes:
        state.warnings.append(f"no node matches --nodes {node_selector}")
    return state
