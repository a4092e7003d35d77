"""Foreign state a real Kubernetes node carries besides its CNI: what a cleanup must leave
alone, put on every node before the CNI is installed.

* kube-proxy in iptables mode: its chains and rules for one ClusterIP service with an
  endpoint, the masquerade mark, the forward rules (cleanup-anchors.md §3-4: blanket
  flushes "wipe kube-proxy" rules; kubeadm#689);
* a host firewall rule that keeps SSH open (kubespray#1229, #5812, k3s#774: flushes
  that locked operators out);
* podman's CNI config and its host-local IPAM leases (kubeadm#1822: emptying
  /etc/cni/net.d broke podman; k3s-style ``rm -rf /var/lib/cni`` takes its leases);
* Docker's chains, its ``docker0`` bridge and address (moby#12294: a full iptables
  reload drops Docker's rules);
* a user bridge with an address and a user route through it.

Addresses are documentation ranges or the podman/docker defaults, only ever configured
inside the node's own network namespace. :func:`apply` runs one script per node.

>>> "KUBE-SERVICES" in IPTABLES and "--dport 22" in IPTABLES
True
>>> PODMAN_LEASE
'/var/lib/cni/networks/podman/10.88.0.5'
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Sequence

from harness.providers.base import CommandResult, Node

SVC = "KUBE-SVC-ERIFXISQEP7F7OF4"  # kube-dns's chain name, as kube-proxy hashes it
SEP = "KUBE-SEP-6E7XQMQ4RAYOWTTM"
_KP = '-m comment --comment "kube-system/kube-dns:dns-tcp'
IPTABLES = f"""*filter
:KUBE-FORWARD - [0:0]
:KUBE-SERVICES - [0:0]
:KUBE-FIREWALL - [0:0]
:DOCKER - [0:0]
:DOCKER-USER - [0:0]
:DOCKER-ISOLATION-STAGE-1 - [0:0]
:DOCKER-ISOLATION-STAGE-2 - [0:0]
-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT
-A INPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A INPUT -j KUBE-FIREWALL
-A FORWARD -m comment --comment "kubernetes forwarding rules" -j KUBE-FORWARD
-A FORWARD -j DOCKER-USER
-A FORWARD -j DOCKER-ISOLATION-STAGE-1
-A FORWARD -o docker0 -j DOCKER
-A FORWARD -i docker0 ! -o docker0 -j ACCEPT
-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP
-A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark 0x4000/0x4000 -j ACCEPT
-A KUBE-FIREWALL ! -s 127.0.0.0/8 -d 127.0.0.0/8 -m comment --comment "block incoming localnet connections" -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP
-A DOCKER-USER -j RETURN
-A DOCKER-ISOLATION-STAGE-1 -i docker0 ! -o docker0 -j DOCKER-ISOLATION-STAGE-2
-A DOCKER-ISOLATION-STAGE-1 -j RETURN
-A DOCKER-ISOLATION-STAGE-2 -o docker0 -j DROP
-A DOCKER-ISOLATION-STAGE-2 -j RETURN
COMMIT
*nat
:KUBE-SERVICES - [0:0]
:KUBE-POSTROUTING - [0:0]
:KUBE-MARK-MASQ - [0:0]
:KUBE-NODEPORTS - [0:0]
:{SVC} - [0:0]
:{SEP} - [0:0]
:DOCKER - [0:0]
-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER
-A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A OUTPUT ! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -j DOCKER
-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING
-A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE
-A KUBE-SERVICES -d 10.96.0.10/32 -p tcp {_KP} cluster IP" -m tcp --dport 53 -j {SVC}
-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS
-A {SVC} ! -s 10.244.0.0/16 -d 10.96.0.10/32 -p tcp {_KP} cluster IP" -m tcp --dport 53 -j KUBE-MARK-MASQ
-A {SVC} {_KP} -> 10.244.0.2:53" -j {SEP}
-A {SEP} -s 10.244.0.2/32 {_KP}" -j KUBE-MARK-MASQ
-A {SEP} -p tcp {_KP}" -m tcp -j DNAT --to-destination 10.244.0.2:53
-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000
-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN
-A KUBE-POSTROUTING -j MARK --set-xmark 0x4000/0x0
-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully
-A DOCKER -i docker0 -j RETURN
COMMIT
"""  # noqa: E501  (iptables-save lines, verbatim)

PODMAN_CONF_DIR = "/etc/cni/net.d"  # podman v3's default (containers.conf)
PODMAN_CONFLIST = f"{PODMAN_CONF_DIR}/87-podman-bridge.conflist"
PODMAN_LEASE = "/var/lib/cni/networks/podman/10.88.0.5"
PODMAN_CONTAINER = "5d3c2a8f" * 8
PODMAN_CONF = {  # podman v3's default network (containers/common, cni/netconflist)
    "cniVersion": "0.4.0",
    "name": "podman",
    "plugins": [
        {
            "type": "bridge",
            "bridge": "cni-podman0",
            "isGateway": True,
            "ipMasq": True,
            "hairpinMode": True,
            "ipam": {
                "type": "host-local",
                "routes": [{"dst": "0.0.0.0/0"}],
                "ranges": [[{"subnet": "10.88.0.0/16", "gateway": "10.88.0.1"}]],
            },
        },
        {"type": "portmap", "capabilities": {"portMappings": True}},
        {"type": "firewall"},
        {"type": "tuning"},
    ],
}

# links, addresses and the route: docker0 (down, as with no container), a user bridge
_NETWORK = """
ip link add docker0 type bridge
ip addr add 172.17.0.1/16 dev docker0
ip link add br-lab type bridge
ip addr add 192.0.2.1/24 dev br-lab
ip link set br-lab up
ip route add 203.0.113.0/24 via 192.0.2.254 dev br-lab
"""

DESCRIPTION = (
    "kube-proxy (iptables mode: KUBE-SERVICES, a kube-dns service and endpoint, "
    "KUBE-POSTROUTING masquerade, KUBE-FORWARD)",
    'a host firewall rule keeping SSH open ("-A INPUT -p tcp --dport 22 -j ACCEPT")',
    f"podman's CNI config ({PODMAN_CONFLIST}) and IPAM lease ({PODMAN_LEASE})",
    "Docker's chains (DOCKER, DOCKER-USER, DOCKER-ISOLATION-STAGE-1/2), docker0 "
    "172.17.0.1/16 and its masquerade rule",
    "a user bridge br-lab 192.0.2.1/24 with a user route 203.0.113.0/24 via 192.0.2.254",
)


def script(podman_dir: str = PODMAN_CONF_DIR) -> str:
    """The shell script that puts the baseline on a node (run once). ``podman_dir``
    is where podman keeps its CNI config: its default, the kubelet's own directory
    (where the runtime loads it as soon as no CNI sorts before it, fact:
    harness-anchors.md §5), or a directory of its own (containers.conf
    ``network_config_dir``)."""
    lease_dir = PODMAN_LEASE.rsplit("/", 1)[0]
    conflist = f"{podman_dir.rstrip('/')}/{PODMAN_CONFLIST.rsplit('/', 1)[1]}"
    files = {
        conflist: json.dumps(PODMAN_CONF, indent=2) + "\n",
        PODMAN_LEASE: f"{PODMAN_CONTAINER}\neth0",
        f"{lease_dir}/last_reserved_ip.0": "10.88.0.5",
        f"{lease_dir}/lock": "",
    }
    # kube-proxy's DaemonSet mounts the xtables lock with hostPath FileOrCreate
    lines = [
        "set -e",
        f"mkdir -p {lease_dir} /etc/cni/net.d {podman_dir}",
        "touch /run/xtables.lock",
    ]
    for path, text in files.items():
        lines.append(f"printf %s {shlex.quote(text)} > {path}")
    lines.append(f"iptables-restore --noflush -w <<'RULES'\n{IPTABLES}RULES")
    lines.append(_NETWORK.strip())
    return "\n".join(lines) + "\n"


def boot_script() -> str:
    """What the node's boot services recreate after a reboot or power-on (the kernel
    part of the baseline: netfilter-persistent's SSH rule, dockerd's and kube-proxy's
    chains, the network config's bridge and route); files survive a reboot."""
    return (
        "\n".join(
            [
                "set -e",
                "touch /run/xtables.lock",
                f"iptables-restore --noflush -w <<'RULES'\n{IPTABLES}RULES",
                _NETWORK.strip(),
            ]
        )
        + "\n"
    )


def apply(nodes: Sequence[Node], extra: str = "") -> list[CommandResult]:
    """The baseline on every node, then the operator's own script (``extra``, run with
    bash as root) if given. Raises CommandError on the first node that refuses."""
    results = []
    for node in nodes:
        results.append(node.exec(["sh", "-c", script()]))
        if extra:
            results.append(node.exec(["bash", "-c", extra], timeout=120))
    return results
