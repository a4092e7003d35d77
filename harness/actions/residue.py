"""What each CNI leaves, as patterns over snapshot object names: an independent second
opinion beside ``cniscrub verify`` (a residue check that trusted the cleaner alone could
not catch the cleaner's own mistakes).

Flannel: flannel-footprint.md §7 (the residue checklist: conflist, plugin binary,
``/run/flannel``, ``flannel.*`` and ``cni0`` links, their routes, ``FLANNEL-*`` chains and
the rules jumping to them or commented ``flanneld``, the ``cbr0`` IPAM directory, the
delegate's scratch files, node annotations). kube-router: kube-router-footprint.md §2
(``10-kuberouter.conflist``, ``kube-bridge``, proto-17 routes, the table-77 rule,
``KUBE-ROUTER-*`` chains and ipsets, the ``mynet`` IPAM directory) and §2.7
(``kube-router.io/`` annotations).

>>> residue("flannel", ["link flannel.1 (vxlan)", "link br-lab (bridge)",
...                     'rule "-A INPUT -j KUBE-FIREWALL" (filter, nft)'])
['link flannel.1 (vxlan)']
>>> residue("kube-router", ["ip rule 32765: from all lookup 77",
...                         "route table 77 10.244.2.0/24 dev eth0 proto 17"])
['ip rule 32765: from all lookup 77', 'route table 77 10.244.2.0/24 dev eth0 proto 17']
"""

from __future__ import annotations

import re
from collections.abc import Iterable

PATTERNS: dict[str, tuple[str, ...]] = {
    "flannel": (
        r"^file /etc/cni/net\.d/10-flannel\.conflist$",
        r"^file /opt/cni/bin/flannel$",
        r"^(file|dir) /run/flannel(/|$)",
        r"^(file|dir) /var/lib/cni/(flannel|networks/cbr0)(/|$)",
        r"^link flannel[.-]",
        r"^link cni0 ",
        r"^(address|route|neighbour|fdb) .* (dev|on) (flannel[.-]\S+|cni0)( |$)",
        r"^chain FLANNEL-",
        r'^rule ".*(FLANNEL-|"flanneld )',
        r"^nft table \S+ flannel",
        r"^annotation flannel\.alpha\.coreos\.com/",
    ),
    "kube-router": (
        r"^file /etc/cni/net\.d/10-kuberouter\.conflist$",
        r"^(file|dir) /var/lib/cni/networks/mynet(/|$)",
        r"^link kube-bridge ",
        r"^(address|route|neighbour|fdb) .* (dev|on) kube-bridge( |$)",
        r"^route .* proto (17|zebra)( |$)",
        r"^ip rule .* lookup 77$",
        r"^chain KUBE-ROUTER-",
        r'^rule ".*KUBE-ROUTER-',
        r"^ipset kube-router-",
        r"^annotation kube-router\.io/",
    ),
}


def residue(cni: str, names: Iterable[str]) -> list[str]:
    """The object names that are ``cni``'s, in the order given."""
    compiled = [re.compile(p) for p in PATTERNS[cni]]
    return [n for n in names if any(p.search(n) for p in compiled)]
