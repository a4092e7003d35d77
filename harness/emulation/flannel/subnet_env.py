"""``/run/flannel/subnet.env`` render, parse and atomic write (test emulation; §2.2).

>>> print(render(SubnetEnv(network="10.244.0.0/16", subnet="10.244.1.0/24",
...                        mtu=1450, ipmasq=True)), end="")
FLANNEL_NETWORK=10.244.0.0/16
FLANNEL_SUBNET=10.244.1.1/24
FLANNEL_MTU=1450
FLANNEL_IPMASQ=true
"""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass

DEFAULT_PATH = "/run/flannel/subnet.env"  # §2.1 --subnet-file
KEYS = (  # §2.2, in this order
    "FLANNEL_NETWORK",
    "FLANNEL_SUBNET",
    "FLANNEL_IPV6_NETWORK",
    "FLANNEL_IPV6_SUBNET",
    "FLANNEL_MTU",
    "FLANNEL_IPMASQ",
)


@dataclass(frozen=True)
class SubnetEnv:
    """What flanneld writes; ``subnet``/``ipv6_subnet`` are the node's podCIDRs."""

    network: str | None
    subnet: str | None
    mtu: int
    ipmasq: bool
    ipv6_network: str | None = None
    ipv6_subnet: str | None = None


def first_ip(cidr: str) -> str:
    """``10.244.1.0/24`` -> ``10.244.1.1/24`` (§2.2: the first usable IP)."""
    net = ipaddress.ip_network(cidr, strict=False)
    return f"{net.network_address + 1}/{net.prefixlen}"


def render(env: SubnetEnv) -> str:
    """The file content, keys in the §2.2 order, only the enabled families."""
    lines = []
    if env.network:
        lines.append(f"FLANNEL_NETWORK={env.network}")
    if env.subnet:
        lines.append(f"FLANNEL_SUBNET={first_ip(env.subnet)}")
    if env.ipv6_network:
        lines.append(f"FLANNEL_IPV6_NETWORK={env.ipv6_network}")
    if env.ipv6_subnet:
        lines.append(f"FLANNEL_IPV6_SUBNET={first_ip(env.ipv6_subnet)}")
    lines.append(f"FLANNEL_MTU={env.mtu}")
    lines.append(f"FLANNEL_IPMASQ={'true' if env.ipmasq else 'false'}")
    return "".join(line + "\n" for line in lines)


def parse(text: str) -> dict[str, str]:
    """``KEY=value`` lines to a dict (blank lines and ``#`` comments ignored)."""
    out: dict[str, str] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        out[key.strip()] = value.strip()
    return out


def read(path: str = DEFAULT_PATH) -> dict[str, str] | None:
    """The parsed file, or None when it does not exist."""
    try:
        with open(path, encoding="utf-8") as f:
            return parse(f.read())
    except FileNotFoundError:
        return None


def write(env: SubnetEnv, path: str = DEFAULT_PATH) -> None:
    """Atomic write: dir 0755, temp ``.subnet.env`` then rename, file 0644 (§2.2)."""
    directory = os.path.dirname(path) or "."
    if not os.path.isdir(directory):
        os.makedirs(directory, mode=0o755, exist_ok=True)
        os.chmod(directory, 0o755)  # the container's umask is 022
    tmp = os.path.join(directory, "." + os.path.basename(path))
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        os.fchmod(fd, 0o644)
        os.write(fd, render(env).encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    os.rename(tmp, path)
