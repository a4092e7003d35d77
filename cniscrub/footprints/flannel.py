"""The Flannel footprint: everything a Flannel install can leave on a node, recognised
positively (flannel-footprint.md §7) -- netfilter, devices, routes, files -- plus the
pods still attached to its bridge, and what its manifest leaves in the API (§1.1, §2.7).

>>> from cniscrub.inventory.model import Inventory
>>> match(Inventory()).claims
[]
>>> FOOTPRINT.agents
('flanneld',)
"""

from __future__ import annotations

from cniscrub.footprints.flannel_facts import gather
from cniscrub.footprints.flannel_files import PLACES, match_files
from cniscrub.footprints.flannel_links import match_links
from cniscrub.footprints.flannel_netfilter import match_netfilter, rule_candidate
from cniscrub.footprints.flannel_routes import match_routes
from cniscrub.footprints.model import Footprint
from cniscrub.footprints.spec import ApiObject, ClusterFootprint, FootprintSpec
from cniscrub.inventory import Scope
from cniscrub.inventory.model import Inventory

NAMESPACE = "kube-flannel"
API_OBJECTS = (  # flannel-footprint.md §1.1 (kube-flannel.yml, v0.22.0 .. HEAD)
    ApiObject("DaemonSet", "kube-flannel-ds", NAMESPACE, "apps/v1"),
    ApiObject("ConfigMap", "kube-flannel-cfg", NAMESPACE),
    ApiObject("ServiceAccount", "flannel", NAMESPACE),
    ApiObject("ClusterRoleBinding", "flannel", None, "rbac.authorization.k8s.io/v1"),
    ApiObject("ClusterRole", "flannel", None, "rbac.authorization.k8s.io/v1"),
    ApiObject("Namespace", NAMESPACE),
)


def match(inv: Inventory) -> Footprint:
    """Pure: which objects of ``inv`` are Flannel's, with evidence."""
    fp = gather(inv)
    match_netfilter(fp, inv)
    owned = match_links(fp, inv)
    match_routes(fp, inv, owned)
    match_files(fp, inv)
    fp.warnings += inv.notes
    return fp


FOOTPRINT = FootprintSpec(
    name="flannel",
    title="Flannel",
    agents=("flanneld",),
    scope=Scope(file_places=PLACES, rule_filter=rule_candidate),
    match=match,
    cluster=ClusterFootprint(
        objects=API_OBJECTS,
        labels=("k8s-app=flannel", "app=flannel"),  # §1.1 (kustomize adds k8s-app)
        pod_labels=("app=flannel",),  # §1.1: the DaemonSet's selector
        namespace_labels=(("pod-security.kubernetes.io/enforce", "privileged"),),
        node_annotation_prefixes=("flannel.alpha.coreos.com/",),  # §2.7
        node_condition_reasons=("FlannelIsUp",),  # §2.7 NetworkUnavailable=False
    ),
)
