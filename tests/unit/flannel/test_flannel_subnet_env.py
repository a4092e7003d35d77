"""subnet.env content and write (fact: flannel-footprint.md §2.2)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from harness.emulation.flannel.subnet_env import SubnetEnv, parse, read, render, write


def test_ipv4_golden() -> None:
    # fact: flannel-footprint.md §2.2 (keys, order, .1 of the podCIDR)
    env = SubnetEnv(
        network="10.244.0.0/16", subnet="10.244.1.0/24", mtu=1450, ipmasq=True
    )
    assert render(env) == (
        "FLANNEL_NETWORK=10.244.0.0/16\n"
        "FLANNEL_SUBNET=10.244.1.1/24\n"
        "FLANNEL_MTU=1450\n"
        "FLANNEL_IPMASQ=true\n"
    )


def test_dual_stack_golden_order() -> None:
    # fact: flannel-footprint.md §2.2 (v6 keys between SUBNET and MTU)
    env = SubnetEnv(
        network="10.244.0.0/16",
        subnet="10.244.2.0/24",
        ipv6_network="fd00:10:244::/56",
        ipv6_subnet="fd00:10:244:2::/64",
        mtu=1450,
        ipmasq=False,
    )
    assert render(env).splitlines() == [
        "FLANNEL_NETWORK=10.244.0.0/16",
        "FLANNEL_SUBNET=10.244.2.1/24",
        "FLANNEL_IPV6_NETWORK=fd00:10:244::/56",
        "FLANNEL_IPV6_SUBNET=fd00:10:244:2::1/64",
        "FLANNEL_MTU=1450",
        "FLANNEL_IPMASQ=false",
    ]


def test_ipv6_only_has_no_ipv4_keys() -> None:
    # fact: flannel-footprint.md §2.2 (FLANNEL_NETWORK only if EnableIPv4)
    env = SubnetEnv(None, None, 1450, True, "fd00:10:244::/56", "fd00:10:244:1::/64")
    assert list(parse(render(env))) == [
        "FLANNEL_IPV6_NETWORK",
        "FLANNEL_IPV6_SUBNET",
        "FLANNEL_MTU",
        "FLANNEL_IPMASQ",
    ]


def test_atomic_write_modes(tmp_path: Path) -> None:
    # fact: flannel-footprint.md §2.2 (dir 0755, file 0644, temp + rename)
    path = tmp_path / "run" / "flannel" / "subnet.env"
    old = os.umask(0o077)
    try:
        write(SubnetEnv("10.244.0.0/16", "10.244.3.0/24", 1450, True), str(path))
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o755
    assert sorted(os.listdir(path.parent)) == ["subnet.env"]  # no temp left
    assert read(str(path)) == {
        "FLANNEL_NETWORK": "10.244.0.0/16",
        "FLANNEL_SUBNET": "10.244.3.1/24",
        "FLANNEL_MTU": "1450",
        "FLANNEL_IPMASQ": "true",
    }
    assert read(str(tmp_path / "missing")) is None
