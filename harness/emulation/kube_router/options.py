"""kube-router command-line flags the emulation honours (test emulation).

pflag style (``--flag``, ``--flag=value``, ``--flag value``; booleans take ``=false``),
with kube-router's defaults; the standard manifests set ``--run-router=true
--run-firewall=true --run-service-proxy=false --bgp-graceful-restart=true``
(kube-router-footprint.md §1). An unknown flag is an error, as with pflag.

>>> o = parse_flags(["--run-router=true", "--run-service-proxy=false"])
>>> (o.run_router, o.run_firewall, o.run_service_proxy, o.enable_overlay, o.health_port)
(True, True, False, True, 20244)
>>> parse_duration("1m30s"), parse_duration("5m0s")
(90.0, 300.0)
"""

from __future__ import annotations

import argparse
import re
from dataclasses import dataclass, field

_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h)")
_UNIT = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_duration(text: str) -> float:
    """A Go duration (``90s``, ``5m0s``) in seconds."""
    parts = _DURATION.findall(text)
    if not parts or "".join(a + b for a, b in parts) != text:
        raise argparse.ArgumentTypeError(f'invalid duration "{text}"')
    return sum(float(n) * _UNIT[u] for n, u in parts)


@dataclass
class Options:
    """Flags and their kube-router defaults (§2.2-§2.6 name the ones that matter)."""

    run_router: bool = True
    run_firewall: bool = True
    run_service_proxy: bool = True
    enable_cni: bool = True  # §3.1 (6): the CNI file is written only with this on
    enable_overlay: bool = True  # §2.3: the table-77 rule exists only with this on
    overlay_type: str = "subnet"  # §2.2: "subnet" or "full"
    enable_pod_egress: bool = True  # §2.4: the MASQUERADE rule
    auto_mtu: bool = True  # §2.2: kube-bridge MTU = primary NIC MTU
    enable_ipv4: bool = True
    enable_ipv6: bool = False
    bgp_graceful_restart: bool = False
    bgp_graceful_restart_time: float = 90.0
    cluster_asn: int = 64512  # §2.3
    bgp_port: int = 179  # §2.3 / §2.6
    health_port: int = 20244  # §2.6
    service_cluster_ip_range: list[str] = field(
        default_factory=lambda: ["10.96.0.0/12"]
    )
    service_node_port_range: str = "30000-32767"  # §2.4 KUBE-ROUTER-INPUT
    netpol_default_deny: bool = False  # §2.4/§2.5 (v2.10+)
    iptables_sync_period: float = 300.0
    routes_sync_period: float = 300.0
    injected_routes_sync_period: float = 60.0  # §2.3
    cleanup_config: bool = False  # §4
    hostname_override: str = ""
    kubeconfig: str = ""
    master: str = ""


class FlagError(ValueError):
    """An unknown or malformed flag (pflag: ``unknown flag: --x``)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise FlagError(message)


def _bool(value: str) -> bool:
    low = value.lower()
    if low in ("1", "t", "true"):
        return True
    if low in ("0", "f", "false"):
        return False
    raise argparse.ArgumentTypeError(f'invalid boolean value "{value}"')


def parse_flags(argv: list[str]) -> Options:
    """Parse the arguments after the program name."""
    defaults = Options()
    p = _Parser(prog="kube-router", add_help=False, allow_abbrev=False)
    for name, value in vars(defaults).items():
        flag = "--" + name.replace("_", "-")
        if isinstance(value, bool):
            p.add_argument(flag, type=_bool, nargs="?", const=True, default=value)
        elif isinstance(value, list):
            p.add_argument(flag, type=lambda v: v.split(","), default=value)
        elif isinstance(value, float) and name.endswith(("_period", "_time")):
            p.add_argument(flag, type=parse_duration, default=value)
        else:
            p.add_argument(flag, type=type(value), default=value)
    ns, rest = p.parse_known_args(argv)
    if rest:
        raise FlagError(f"unknown flag: {rest[0]}")
    return Options(**vars(ns))
