"""Flannel residue and foreign state, built on a sandbox :class:`Node` with real tools.

Every spec below reproduces upstream behaviour and cites it.
"""

from __future__ import annotations

import hashlib
import json

from csb_nodebuilder import NET4, NET6, POD4, POD6, Node

from harness.flannel_install import cni_conf

# fact: flannel-footprint.md §1.2 (cni-conf.json of kube-flannel.yml, written to
# /etc/cni/net.d/10-flannel.conflist by install-cni, §1.3)
FLANNEL_CONFLIST = cni_conf()
# a podman conflist (foreign): bridge cni-podman0, host-local under networks/podman
PODMAN_CONFLIST = {
    "cniVersion": "0.4.0",
    "name": "podman",
    "plugins": [
        {
            "type": "bridge",
            "bridge": "cni-podman0",
            "isGateway": True,
            "ipMasq": True,
            "ipam": {"type": "host-local", "ranges": [[{"subnet": "198.19.88.0/24"}]]},
        },
        {"type": "portmap", "capabilities": {"portMappings": True}},
        {"type": "firewall"},
    ],
}


def masq_rules(net: str, pod: str, mcast: str) -> str:
    # fact: flannel-footprint.md §2.4 (nat FLANNEL-POSTRTG rules, e2e/rules.go)
    c = '-m comment --comment "flanneld masq"'
    masq = "MASQUERADE --random-fully"
    return "\n".join(
        [
            "*nat",
            ":FLANNEL-POSTRTG - [0:0]",
            f"-A POSTROUTING {c} -j FLANNEL-POSTRTG",
            f"-A FLANNEL-POSTRTG -m mark --mark 0x4000/0x4000 {c} -j RETURN",
            f"-A FLANNEL-POSTRTG -s {pod} -d {net} {c} -j RETURN",
            f"-A FLANNEL-POSTRTG -s {net} -d {pod} {c} -j RETURN",
            f"-A FLANNEL-POSTRTG ! -s {net} -d {pod} {c} -j RETURN",
            f"-A FLANNEL-POSTRTG -s {net} ! -d {mcast} {c} -j {masq}",
            f"-A FLANNEL-POSTRTG ! -s {net} -d {net} {c} -j {masq}",
            "COMMIT",
            "",
        ]
    )


def forward_rules(net: str) -> str:
    # fact: flannel-footprint.md §2.4 (filter FLANNEL-FWD rules)
    c = '-m comment --comment "flanneld forward"'
    return "\n".join(
        [
            "*filter",
            ":FLANNEL-FWD - [0:0]",
            f"-A FORWARD {c} -j FLANNEL-FWD",
            f"-A FLANNEL-FWD -s {net} {c} -j ACCEPT",
            f"-A FLANNEL-FWD -d {net} {c} -j ACCEPT",
            "COMMIT",
            "",
        ]
    )


def empty_chains() -> tuple[str, str]:
    # fact: flannel-footprint.md §2.6 (v0.25-v0.26 graceful stop leaves empty chains)
    return (
        "*nat\n:FLANNEL-POSTRTG - [0:0]\nCOMMIT\n",
        "*filter\n:FLANNEL-FWD - [0:0]\nCOMMIT\n",
    )


def nft_tables(dual: bool) -> str:
    # fact: flannel-footprint.md §2.5 (nft mode tables, chains and rules)
    def table(fam: str, name: str, ip: str, net: str, pod: str, mcast: str) -> str:
        return f"""table {fam} {name} {{
  comment "rules for {name}"
  chain postrtg {{
    type nat hook postrouting priority srcnat;
    meta mark 0x00004000 return
    {ip} saddr {pod} {ip} daddr {net} return
    {ip} saddr {net} {ip} daddr {pod} return
    {ip} saddr != {pod} {ip} daddr {net} return
    {ip} saddr {net} {ip} daddr != {mcast} masquerade fully-random
    {ip} saddr != {net} {ip} daddr {net} masquerade fully-random
  }}
  chain forward {{
    type filter hook forward priority filter;
    {ip} saddr {net} accept
    {ip} daddr {net} accept
  }}
}}
"""

    out = table("ip", "flannel-ipv4", "ip", NET4, POD4, "224.0.0.0/4")
    # fact: §2.5 both tables are created at Init even when IPv6 is disabled
    v6 = (NET6, POD6) if dual else ("fd00:10:244::/56", "fd00:10:244:1::/64")
    return out + table("ip6", "flannel-ipv6", "ip6", *v6, "ff00::/8")


def subnet_env(dual: bool) -> str:
    # fact: flannel-footprint.md §2.2 (keys and order of /run/flannel/subnet.env)
    lines = [f"FLANNEL_NETWORK={NET4}", "FLANNEL_SUBNET=10.244.1.1/24"]
    if dual:
        lines += [
            f"FLANNEL_IPV6_NETWORK={NET6}",
            "FLANNEL_IPV6_SUBNET=fd00:10:244:1::1/64",
        ]
    return "\n".join([*lines, "FLANNEL_MTU=1450", "FLANNEL_IPMASQ=true", ""])


def vxlan(node: Node, peers: int, dual: bool) -> None:
    # fact: flannel-footprint.md §2.3 (vxlan device, /32 address, per-peer
    # neigh/fdb/route)
    node.ip(
        "link",
        "add",
        "flannel.1",
        "type",
        "vxlan",
        "id",
        "1",
        "local",
        "198.18.0.2",
        "dev",
        "eth0",
        "dstport",
        "8472",
        "nolearning",
    )
    node.ip("link", "set", "flannel.1", "mtu", "1450", "up")
    node.ip("addr", "add", "10.244.1.0/32", "dev", "flannel.1")
    batch = []
    for i in range(peers):
        p, mac, under = (
            f"10.244.{i + 2}.0",
            f"aa:bb:cc:00:{i // 256:02x}:{i % 256:02x}",
            f"198.18.{1 + i // 250}.{i % 250 + 2}",
        )
        batch += [
            f"neigh add {p} dev flannel.1 lladdr {mac} nud permanent",
            f"route add {p}/24 via {p} dev flannel.1 onlink",
        ]
        node.net_exec(
            [
                "bridge",
                "fdb",
                "append",
                mac,
                "dev",
                "flannel.1",
                "dst",
                under,
                "self",
                "permanent",
            ]
        )
    if dual:
        node.ip(
            "link",
            "add",
            "flannel-v6.1",
            "type",
            "vxlan",
            "id",
            "1",
            "local",
            "fd00:198:18::2",
            "dev",
            "eth0",
            "dstport",
            "8472",
            "nolearning",
        )
        node.ip("link", "set", "flannel-v6.1", "up")
        node.ip("addr", "add", "fd00:10:244:1::/128", "dev", "flannel-v6.1", "nodad")
        batch += [
            "route add fd00:10:244:2::/64 via fd00:10:244:2:: dev flannel-v6.1 onlink"
        ]
    if batch:
        node.net_exec(["ip", "-batch", "-"], input="\n".join(batch) + "\n")


def udp(node: Node) -> None:
    # fact: flannel-footprint.md §2.3 udp (tun flannel0, <lease IP>/32, Network route)
    node.ip("tuntap", "add", "mode", "tun", "name", "flannel0")
    node.ip("addr", "add", "10.244.1.0/32", "dev", "flannel0")
    node.ip("link", "set", "flannel0", "mtu", "1472", "up")
    node.ip("route", "add", NET4, "dev", "flannel0")


def bridge_masq(node: Node, backend: str, pods: int, network: str = "cbr0") -> None:
    # fact: flannel-footprint.md §4 (bridge ipMasq chains CNI-<24 hex> commented
    # name: "<network>" id: "<containerID>", jumped to from POSTROUTING per pod IP)
    lines = ["*nat"]
    for i in range(pods):
        cid = f"{i:064x}" if network == "cbr0" else f"{i + 90:064x}"
        chain = f"CNI-{hashlib.sha512((network + cid).encode()).hexdigest()[:24]}"
        ip = f"10.244.1.{i + 2}" if network == "cbr0" else f"198.19.88.{i + 5}"
        comment = f'-m comment --comment "name: \\"{network}\\" id: \\"{cid}\\""'
        lines += [
            f":{chain} - [0:0]",
            f"-A POSTROUTING -s {ip}/32 {comment} -j {chain}",
            f"-A {chain} -d {ip.rsplit('.', 1)[0]}.0/24 {comment} -j ACCEPT",
            f"-A {chain} ! -d 224.0.0.0/4 {comment} -j MASQUERADE",
        ]
    node.ipt(backend, 4, "\n".join([*lines, "COMMIT", ""]))


def host_gw(node: Node, peers: int) -> None:
    # fact: flannel-footprint.md §2.3 host-gw (<peer podCIDR> via <peer IP> dev <ext>)
    lines = [
        f"route add 10.244.{i + 2}.0/24 via 198.18.0.{i + 10} dev eth0"
        for i in range(peers)
    ]
    node.net_exec(["ip", "-batch", "-"], input="\n".join(lines) + "\n")


def bridge_and_pods(node: Node, pods: int, dual: bool) -> list[str]:
    # fact: flannel-footprint.md §4 (cni0 with <podCIDR>.1/24, veth per pod)
    node.ip("link", "add", "cni0", "type", "bridge")
    node.ip("link", "set", "cni0", "mtu", "1450", "up")
    node.ip("addr", "add", "10.244.1.1/24", "dev", "cni0")
    if dual:
        node.ip("addr", "add", "fd00:10:244:1::1/64", "dev", "cni0", "nodad")
    return [node.add_pod(i, "cni0", dual) for i in range(pods)]


def files(node: Node, dual: bool, pods: int, tmp_conf: bool = False) -> None:
    node.write(
        "/etc/cni/net.d/10-flannel.conflist", json.dumps(FLANNEL_CONFLIST, indent=2)
    )
    if tmp_conf:  # fact: §1.3 install-conf temp file (v0.28.6+)
        node.write("/etc/cni/net.d/.10-flannel.conflist.tmp123", "{")
    node.write("/opt/cni/bin/flannel", b"\x7fELF fake flannel plugin\x00", 0o755)
    node.write("/run/flannel/subnet.env", subnet_env(dual))
    for i in range(pods):
        cid = f"{i:064x}"
        # fact: §3.3 scratch file per container, dir 0700 file 0600
        node.write(f"/var/lib/cni/flannel/{cid}", '{"type":"bridge"}', 0o600)
        # fact: §4 host-local lease file "<containerID>\r\n<ifname>"
        node.write(f"/var/lib/cni/networks/cbr0/10.244.1.{i + 2}", f"{cid}\r\neth0")
        node.write(
            f"/var/lib/cni/results/cbr0-{cid}-eth0",
            # fact: flannel-footprint.md §4 libcni result cache (cniCacheV1; netns
            # and cniArgs as libcni records them)
            json.dumps(
                {
                    "kind": "cniCacheV1",
                    "containerId": cid,
                    "ifName": "eth0",
                    "networkName": "cbr0",
                    "netns": f"/run/netns/{node.name}-p{i}",
                    "cniArgs": [
                        ["K8S_POD_NAMESPACE", "default"],
                        ["K8S_POD_NAME", f"web-{i}"],
                    ],
                }
            ),
        )
    (node.root / "var/lib/cni/flannel").chmod(0o700)
    node.write("/var/lib/cni/networks/cbr0/last_reserved_ip.0", f"10.244.1.{pods + 1}")
    node.write("/var/lib/cni/networks/cbr0/lock", "")


def flannel(
    node: Node,
    *,
    version: str = "v0.27",
    backend: str = "nft",
    dual: bool = False,
    nft_mode: bool = False,
    host_gw_mode: bool = False,
    udp_mode: bool = False,
    no_ip_masq: bool = False,
    peers: int = 3,
    pods: int = 2,
    blackhole: bool = False,
) -> None:
    """Residue of one Flannel install (iptables rules in ``backend``)."""
    if host_gw_mode:
        host_gw(node, peers)
    elif udp_mode:
        udp(node)
    else:
        vxlan(node, peers, dual)
    bridge_and_pods(node, pods, dual)
    files(node, dual, pods)
    if blackhole:  # fact: §2.3 --ip-blackhole-route (v0.28+); metric so it can
        # coexist with cni0's kernel route for the same prefix (inferred)
        node.ip("route", "add", "blackhole", POD4, "metric", "1000")
    if nft_mode:
        node.nft(nft_tables(dual))
        return
    fams = [(4, NET4, POD4, "224.0.0.0/4")]
    if dual:
        fams.append((6, NET6, POD6, "ff00::/8"))
    for fam, net, pod, mcast in fams:
        if no_ip_masq:  # fact: §2.4 FLANNEL-FWD exists with or without --ip-masq
            node.ipt(backend, fam, forward_rules(net))
            if fam == 4:
                bridge_masq(node, backend, pods)
        elif version == "v0.26":
            for text in empty_chains():
                node.ipt(backend, fam, text)
        else:
            node.ipt(backend, fam, masq_rules(net, pod, mcast))
            node.ipt(backend, fam, forward_rules(net))


def foreign(node: Node, backends: tuple[str, ...] = ("nft", "legacy")) -> None:
    """State that is NOT Flannel's and must survive untouched."""
    for backend in backends:
        for fam in (4, 6):
            node.ipt(
                backend,
                fam,
                "\n".join(
                    [
                        "*nat",
                        ":KUBE-SERVICES - [0:0]",
                        ":KUBE-POSTROUTING - [0:0]",
                        ":DOCKER - [0:0]",
                        "-A PREROUTING -m comment --comment "
                        '"kubernetes service portals" -j KUBE-SERVICES',
                        "-A POSTROUTING -j KUBE-POSTROUTING",
                        "-A KUBE-POSTROUTING -m mark --mark 0x4000/0x4000 "
                        "-j MASQUERADE",
                        "-A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER",
                        "COMMIT",
                        "*filter",
                        ":KUBE-FORWARD - [0:0]",
                        ":DOCKER - [0:0]",
                        ":DOCKER-USER - [0:0]",
                        "-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT",
                        "-A FORWARD -j DOCKER-USER",
                        "-A FORWARD -j KUBE-FORWARD",
                        "-A DOCKER-USER -j RETURN",
                        "COMMIT",
                        "",
                    ]
                ),
            )
    node.ipt(
        backends[0],
        4,
        "*nat\n:CNI-HOSTPORT-DNAT - [0:0]\n:CNI-HOSTPORT-MASQ - [0:0]\n"
        "-A PREROUTING -m addrtype --dst-type LOCAL -j CNI-HOSTPORT-DNAT\n"
        '-A POSTROUTING -m comment --comment "CNI portfwd requiring masquerade" '
        "-j CNI-HOSTPORT-MASQ\nCOMMIT\n",
    )
    node.write("/etc/cni/net.d/87-podman-bridge.conflist", json.dumps(PODMAN_CONFLIST))
    node.write("/var/lib/cni/networks/podman/198.19.88.5", "abc\r\neth0")
    node.write("/var/lib/cni/networks/podman/last_reserved_ip.0", "198.19.88.5")
    node.write("/var/lib/cni/results/podman-abc-eth0", "{}")
    for plugin in (
        "bridge",
        "host-local",
        "portmap",
        "loopback",
    ):  # not Flannel's (§1.3)
        node.write(f"/opt/cni/bin/{plugin}", b"\x7fELF plugin", 0o755)
    node.write("/run/xtables.lock", "")  # fact: §1.3 created by the kubelet, kept
    node.ip("link", "add", "br-user", "type", "bridge")
    node.ip("addr", "add", "198.19.7.1/24", "dev", "br-user")
    node.ip("link", "set", "br-user", "up")
    node.ip(
        "link",
        "add",
        "vxlan100",
        "type",
        "vxlan",
        "id",
        "100",
        "local",
        "198.18.0.2",
        "dstport",
        "4789",
    )
    node.ip("route", "add", "198.19.5.0/24", "via", "198.18.0.1", "dev", "eth0")
