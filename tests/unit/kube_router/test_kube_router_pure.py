"""Pure pieces of the kube-router emulation, each pinned to the fact it reproduces
(kube-router-footprint.md)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from harness.emulation.kube_router import cniconf, model, netpol, rules
from harness.emulation.kube_router.cleanup import NETPOL_SETS, drop_netpol
from harness.emulation.kube_router.options import FlagError, parse_flags
from harness.emulation.kube_router.versions import kube_router_version
from harness.kube_router_install import cni_conf

# §2.1: the rewritten file for podCIDR 10.244.1.0/24 and a 1500-MTU NIC
REWRITTEN = (
    '{"cniVersion":"0.3.0","name":"mynet","plugins":[{"bridge":"kube-bridge",'
    '"ipam":{"ranges":[[{"subnet":"10.244.1.0/24"}]],"type":"host-local"},'
    '"isDefaultGateway":true,"mtu":1500,"name":"kubernetes","type":"bridge"}]}'
)


def test_conf_rewrite_is_the_reference_example() -> None:
    # fact: kube-router-footprint.md §2.1 (one compact line, ranges + mtu)
    out = cniconf.render(cniconf.rewrite(cni_conf(), ["10.244.1.0/24"], 1500))
    assert out.decode() == REWRITTEN


def test_conf_rewrite_adds_a_cidr_only_once_and_folds_legacy_subnet() -> None:
    # fact: kube-router-footprint.md §3.1 (5) (unless already present) and §2.1
    # (v2.0+ folds a legacy subnet into ranges)
    once = cniconf.rewrite(cni_conf(), ["10.244.1.0/24"], 1500)
    twice = cniconf.rewrite(once, ["10.244.1.0/24"], 1500)
    assert cniconf.render(twice).decode() == REWRITTEN
    legacy = cni_conf()
    legacy["plugins"][0]["ipam"]["subnet"] = "10.244.9.0/24"
    ipam = cniconf.rewrite(legacy, ["10.244.1.0/24"], None)["plugins"][0]["ipam"]
    assert ipam == {
        "type": "host-local",
        "ranges": [[{"subnet": "10.244.9.0/24"}], [{"subnet": "10.244.1.0/24"}]],
    }


def test_v1_writes_ipam_subnet() -> None:
    # fact: kube-router-footprint.md §2.1 (v1.x: "ipam":{"subnet":...})
    assert not kube_router_version("v1.6.0").ipam_ranges
    conf = cniconf.rewrite(cni_conf(), ["10.244.1.0/24"], None, ranges=False)
    assert conf["plugins"][0]["ipam"] == {
        "type": "host-local",
        "subnet": "10.244.1.0/24",
    }


def test_update_missing_file_is_the_controller_error(tmp_path: Path) -> None:
    # fact: kube-router-footprint.md §3.1 (4)
    path = tmp_path / "10-kuberouter.conflist"
    with pytest.raises(cniconf.ConfError, match=r"^CNI conf file .* does not exist\.$"):
        cniconf.update(str(path), ["10.244.1.0/24"], 1500)
    path.write_text(json.dumps(cni_conf()))
    path.chmod(0o600)
    assert cniconf.update(str(path), ["10.244.1.0/24"], 1500) == REWRITTEN.encode()
    assert path.read_bytes() == REWRITTEN.encode()
    assert path.stat().st_mode & 0o777 == 0o644  # §2.1 file mode 0644


def test_default_conf_file_without_the_env_variable() -> None:
    # fact: kube-router-footprint.md §1 (Env: the binary's default is a .conf)
    from harness.emulation.kube_router.agent import conf_file

    assert conf_file({}) == "/etc/cni/net.d/10-kuberouter.conf"
    env = {"KUBE_ROUTER_CNI_CONF_FILE": "/etc/cni/net.d/10-kuberouter.conflist"}
    assert conf_file(env) == "/etc/cni/net.d/10-kuberouter.conflist"


def node(cidr: str = "10.244.1.0/24", **ann: str) -> dict[str, object]:
    return {
        "metadata": {"name": "n1", "annotations": ann},
        "spec": {"podCIDR": cidr, "podCIDRs": [cidr]} if cidr else {},
        "status": {
            "addresses": [
                {"type": "InternalIP", "address": "198.18.0.11"},
                {"type": "ExternalIP", "address": "203.0.113.11"},
                {"type": "Hostname", "address": "n1"},
            ]
        },
    }


def test_pod_cidr_annotation_wins_over_spec() -> None:
    # fact: kube-router-footprint.md §3.1 (1), (2)
    assert model.pod_cidrs(node()) == ("10.244.1.0/24",)
    got = model.pod_cidrs(node(**{"kube-router.io/pod-cidr": "10.9.0.0/24"}))
    assert got == ("10.9.0.0/24",)
    dual = {"kube-router.io/pod-cidrs": "fd00:9::/64,10.9.1.0/24"}
    assert model.pod_cidrs(node(**dual)) == ("10.9.1.0/24", "fd00:9::/64")
    assert model.pod_cidrs(node("")) == ()


def test_ipset_members_from_nodes() -> None:
    # fact: kube-router-footprint.md §2.5 (pod CIDRs; internal and external IPs)
    n1 = model.node_info(node())
    n2 = model.node_info(node("10.244.2.0/24"))
    assert model.pod_subnets([n1, n2]) == ["10.244.1.0/24", "10.244.2.0/24"]
    assert model.node_ips([n1]) == ["198.18.0.11", "203.0.113.11"]


@pytest.mark.parametrize(
    ("ip", "name"),
    [  # fact: kube-router-footprint.md §2.2 (GenerateTunnelName examples)
        ("192.168.56.11", "tun-fc469c2a7f5"),
        ("192.168.56.12", "tun-c19cfa43d19"),
        ("10.0.0.12", "tun-92eed7da029"),
    ],
)
def test_tunnel_names(ip: str, name: str) -> None:
    assert model.tunnel_name(ip) == name


def test_tunnel_only_with_overlay_and_full_or_other_subnet() -> None:
    # fact: kube-router-footprint.md §2.2 (same-L2-subnet nodes get no tunnel)
    net = "198.18.0.0/15"
    assert not model.needs_tunnel(net, "198.18.0.12", overlay=True, full=False)
    assert model.needs_tunnel(net, "198.18.0.12", overlay=True, full=True)
    assert model.needs_tunnel(net, "192.0.2.12", overlay=True, full=False)
    assert not model.needs_tunnel(net, "192.0.2.12", overlay=False, full=True)


def test_versions() -> None:
    # fact: kube-router-footprint.md §1 (cni-install since v2.1.0; image tag latest)
    assert kube_router_version("latest").tag == "v2.11.1"
    assert kube_router_version("v2.1.0").cni_install
    assert not kube_router_version("v2.0.1").cni_install
    # §2.4: KUBE-NWPLCY-COMMON since about v2.6
    assert kube_router_version("v2.6.0").common_chain
    assert not kube_router_version("v2.5.0").common_chain


def test_manifest_flags_and_defaults() -> None:
    # fact: kube-router-footprint.md §1 (Args), §2.3 (overlay on by default),
    # §2.4 (pod egress on by default), §2.6 (health :20244, BGP 179)
    o = parse_flags(
        ["--run-router=true", "--run-firewall=true", "--run-service-proxy=false",
         "--bgp-graceful-restart=true"]
    )  # fmt: skip
    assert (o.run_router, o.run_firewall, o.run_service_proxy) == (True, True, False)
    assert o.bgp_graceful_restart and o.enable_overlay and o.enable_pod_egress
    assert (o.health_port, o.bgp_port, o.overlay_type) == (20244, 179, "subnet")
    assert o.service_cluster_ip_range == ["10.96.0.0/12"]
    assert parse_flags(["--enable-overlay=false", "--cleanup-config"]).cleanup_config
    with pytest.raises(FlagError, match="unknown flag: --nope"):
        parse_flags(["--nope"])


def test_masquerade_rule() -> None:
    # fact: kube-router-footprint.md §2.4 (nat POSTROUTING, no comment)
    assert rules.masquerade().save_line() == (
        "-A POSTROUTING -m set --match-set kube-router-pod-subnets src "
        "-m set ! --match-set kube-router-pod-subnets dst "
        "-m set ! --match-set kube-router-node-ips dst -j MASQUERADE --random-fully"
    )
    assert all("node-ips" not in r.save_line() for r in rules.bad_masquerade_variants())


def test_forward_rules_are_inserted_pods_out_first() -> None:
    # fact: kube-router-footprint.md §2.4 (three FORWARD ACCEPTs, each at position 1)
    lines = [r.save_line() for r in rules.forward_rules("eth0")]
    assert lines == [
        '-A FORWARD -i kube-bridge -m comment --comment "allow outbound traffic from '
        'pods" -j ACCEPT',
        '-A FORWARD -o kube-bridge -m comment --comment "allow inbound traffic to pods" '
        "-j ACCEPT",
        '-A FORWARD -o eth0 -m comment --comment "allow outbound node port traffic on '
        'node interface with which node ip is associated" -j ACCEPT',
    ]


B32_16 = re.compile(r"^[A-Z2-7]{16}$")


def test_pod_chain_names_change_with_each_sync() -> None:
    # fact: kube-router-footprint.md §2.4 (KUBE-POD-FW-<16 base32>, sync version)
    pod = netpol.LocalPod("default", "web-1", "10.244.1.5")
    a, b = netpol.pod_chain(pod, "1"), netpol.pod_chain(pod, "2")
    assert a != b and a.startswith("KUBE-POD-FW-") and B32_16.match(a[12:])
    assert len(a) <= 28  # an iptables chain name fits


def test_top_level_jumps_and_input_whitelist() -> None:
    # fact: kube-router-footprint.md §2.4 (netpol comments with a 16-char base32 UUID;
    # KUBE-ROUTER-INPUT's RETURNs for the service range and LOCAL node ports)
    jumps = {r.chain: r for r in netpol.top_level_jumps()}
    assert set(jumps) == {"INPUT", "FORWARD", "OUTPUT"}
    for builtin, rule in jumps.items():
        text = rule.spec[3]
        assert re.fullmatch(r"kube-router netpol - [A-Z2-7]{16}", text)
        assert rule.spec[-2:] == ("-j", f"KUBE-ROUTER-{builtin}")
    wl = [
        r.save_line() for r in netpol.input_whitelist(["10.96.0.0/12"], "30000-32767")
    ]
    assert wl[0].startswith("-A KUBE-ROUTER-INPUT -d 10.96.0.0/12 -m comment ")
    assert "allow traffic to primary/secondary cluster IP range - " in wl[0]
    for line, proto in zip(wl[1:], ("tcp", "udp", "sctp"), strict=True):
        assert f"-p {proto} " in line and f"allow LOCAL {proto.upper()} traffic" in line
        assert "--dst-type LOCAL -m multiport --dports 30000:32767 -j RETURN" in line


def test_sync_payload_declares_and_deletes_stale_chains() -> None:
    # fact: kube-router-footprint.md §2.4 (one chain per local pod; names change)
    pod = netpol.LocalPod("default", "web-1", "10.244.1.5")
    text, chains = netpol.sync_payload([pod], "7", ["KUBE-POD-FW-OLD"], ["10.96.0.0/12"],
                                       "30000-32767")  # fmt: skip
    assert chains == [netpol.pod_chain(pod, "7")]
    assert ":KUBE-POD-FW-OLD - [0:0]" in text and "-X KUBE-POD-FW-OLD" in text
    for chain in ("KUBE-NWPLCY-DEFAULT", "KUBE-NWPLCY-COMMON", "KUBE-ROUTER-FORWARD"):
        assert f":{chain} - [0:0]" in text
    assert text.index("-X KUBE-POD-FW-OLD") > text.index(f"-A {chains[0]}")
    old, _ = netpol.sync_payload([pod], "7", [], ["10.96.0.0/12"], "30000-32767",
                                 common=False)  # fmt: skip
    assert "KUBE-NWPLCY-COMMON" not in old and "RELATED,ESTABLISHED" in old


def test_cleanup_config_drops_only_its_chains() -> None:
    # fact: kube-router-footprint.md §4 (1): lines naming the netpol chains are dropped;
    # KUBE-NWPLCY-TAIL is not in that list; kube-proxy's KUBE-* stay
    save = "\n".join([
        "*filter",
        ":KUBE-ROUTER-FORWARD - [0:0]",
        ":KUBE-POD-FW-ABCDEFGHIJKLMNOP - [0:0]",
        ":KUBE-NWPLCY-ABCDEFGHIJKLMNOP - [0:0]",
        ":KUBE-NWPLCY-TAIL - [0:0]",
        ":KUBE-FORWARD - [0:0]",
        '-A FORWARD -m comment --comment "kube-router netpol - X" -j KUBE-ROUTER-FORWARD',
        "-A FORWARD -j KUBE-FORWARD",
        "-A KUBE-ROUTER-FORWARD -d 10.244.1.5/32 -j KUBE-POD-FW-ABCDEFGHIJKLMNOP",
        "COMMIT",
    ])  # fmt: skip
    assert drop_netpol(save).splitlines() == [
        "*filter",
        ":KUBE-NWPLCY-TAIL - [0:0]",
        ":KUBE-FORWARD - [0:0]",
        "-A FORWARD -j KUBE-FORWARD",
        "COMMIT",
    ]
    assert [s for s in ("KUBE-SRC-X", "KUBE-DST-Y", "kube-router-local-pods",
                        "KUBE-SVC-Z", "kube-router-pod-subnets")
            if NETPOL_SETS.match(s)] == ["KUBE-SRC-X", "KUBE-DST-Y",
                                         "kube-router-local-pods"]  # fmt: skip
