"""The kube-router footprint: what ``kubeadm-kuberouter.yaml`` (router + firewall)
leaves on a node, recognised positively (kube-router-footprint.md §2, §4) --
netfilter chains and rules, ipsets, ``kube-bridge`` and its veths, tunnels, proto-17
routes, the table-77 rule, files -- never kube-proxy's ``KUBE-*``; plus what its
manifest leaves in the API (§1). kube-router writes nothing back to the Node (§2.6).

>>> from cniscrub.inventory.model import Inventory
>>> match(Inventory()).claims
[]
>>> FOOTPRINT.agents, FOOTPRINT.scope.ip_rules, FOOTPRINT.scope.ipsets
(('kube-router',), True, True)
"""

from __future__ import annotations

from cniscrub.footprints.kube_router_facts import gather
from cniscrub.footprints.kube_router_files import PLACES, match_files
from cniscrub.footprints.kube_router_links import match_links, match_routes, match_rules
from cniscrub.footprints.kube_router_netfilter import match_netfilter, rule_candidate
from cniscrub.footprints.model import Footprint
from cniscrub.footprints.spec import ApiObject, ClusterFootprint, FootprintSpec
from cniscrub.inventory import Scope
from cniscrub.inventory.model import Inventory

NAMESPACE = "kube-system"
RBAC = "rbac.authorization.k8s.io/v1"
API_OBJECTS = (  # kube-router-footprint.md §1 (kubeadm- and generic-kuberouter.yaml)
    ApiObject("DaemonSet", "kube-router", NAMESPACE, "apps/v1"),
    ApiObject("ConfigMap", "kube-router-cfg", NAMESPACE),
    ApiObject("ServiceAccount", "kube-router", NAMESPACE),
    ApiObject("ClusterRoleBinding", "kube-router", None, RBAC),
    ApiObject("ClusterRole", "kube-router", None, RBAC),
)


def match(inv: Inventory) -> Footprint:
    """Pure: which objects of ``inv`` are kube-router's, with evidence."""
    fp = gather(inv)
    match_netfilter(fp, inv)
    owned = match_links(fp, inv)
    match_routes(fp, inv, owned)
    match_rules(fp, inv)
    match_files(fp, inv)
    fp.warnings += inv.notes
    return fp


FOOTPRINT = FootprintSpec(
    name="kube-router",
    title="kube-router",
    agents=("kube-router",),
    scope=Scope(
        file_places=PLACES, rule_filter=rule_candidate, ip_rules=True, ipsets=True
    ),
    match=match,
    cluster=ClusterFootprint(
        objects=API_OBJECTS,
        labels=("k8s-app=kube-router",),  # §1: on every object
        pod_labels=("k8s-app=kube-router",),  # §1: the DaemonSet's selector
    ),
)
