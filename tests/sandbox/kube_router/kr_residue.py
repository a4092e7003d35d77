"""Foreign state for the kube-router cleaner tests, beyond :mod:`harness.baseline`
(test helper): what kube-proxy in IPVS mode and an operator keep in the same places
kube-router uses (ipsets, policy-routing rules), and Flannel's leftovers as
``kubectl delete -f kube-flannel.yml`` leaves them (flannel-footprint.md §7), built
with the node's own tools -- never with the cleaner's footprints.
"""

from __future__ import annotations

import json

from kr_lab import Node

from harness.emulation.flannel.rules import forward_rules, masq_rules, restore_payload
from harness.flannel_install import cni_conf

# kube-proxy IPVS mode's sets (one used by a rule, one not) and an operator's set;
# an operator's policy rules, one of them to table 77 from a non-pod source
FOREIGN_NET = """
ipset create KUBE-CLUSTER-IP hash:ip,port
ipset add KUBE-CLUSTER-IP 10.96.0.10,tcp:53
ipset create KUBE-LOOP-BACK hash:ip,port,ip
ipset create user-allow hash:net
ipset add user-allow 192.0.2.0/24
iptables -w -t nat -A PREROUTING -m set --match-set KUBE-CLUSTER-IP dst,dst -j ACCEPT
ip rule add from 192.0.2.0/24 lookup 100 pref 1000
ip rule add from 10.99.0.0/24 lookup 77
ip route add 198.51.100.0/24 via 198.18.0.2 proto static
"""


def foreign(node: Node) -> None:
    node.net_exec(["sh", "-ec", FOREIGN_NET])


def flannel_leftovers(node: Node) -> None:
    """Flannel v0.27 after ``kubectl delete -f`` (§7): conflist and binary, subnet.env,
    cni0 holding the node's .1, flannel.1, its route to the peer, FLANNEL-* chains,
    cbr0 IPAM files."""
    pod, net = node.pod_cidr, "10.244.0.0/16"
    gateway = pod.replace(".0/24", ".1/24")
    node.write_file("/etc/cni/net.d/10-flannel.conflist", json.dumps(cni_conf()))
    node.write_file("/opt/cni/bin/flannel", "#!/bin/sh\n", 0o755)
    env = f"FLANNEL_NETWORK={net}\nFLANNEL_SUBNET={gateway}\n"
    node.write_file(
        "/run/flannel/subnet.env", env + "FLANNEL_MTU=1450\nFLANNEL_IPMASQ=true\n"
    )
    lease = pod.replace(".0/24", ".5")
    node.write_file(f"/var/lib/cni/networks/cbr0/{lease}", "c0ffee\neth0")
    node.write_file("/var/lib/cni/networks/cbr0/last_reserved_ip.0", lease)
    node.ip("link", "add", "cni0", "type", "bridge")
    node.ip("addr", "add", gateway, "dev", "cni0")
    node.ip("link", "set", "cni0", "up")
    node.ip("link", "add", "flannel.1", "type", "vxlan", "id", "1", "dev", "eth0",
            "local", node.address, "dstport", "8472", "nolearning")  # fmt: skip
    node.ip("link", "set", "flannel.1", "up")
    node.ip("route", "add", "10.244.3.0/24", "via", "10.244.3.0", "dev", "flannel.1",
            "onlink")  # fmt: skip
    rules = masq_rules(net, pod) + forward_rules(net)
    node.net_exec(["iptables-restore", "--noflush", "-w"], input=restore_payload(rules))
