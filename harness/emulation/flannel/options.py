"""flanneld command-line flags (test emulation; flannel-footprint.md §2.1).

Go-style flags (``--flag``, ``--flag=value``, ``-flag``); every flag can also come from
``FLANNELD_<FLAG>`` in the environment. Unknown flags are an error, as in flanneld.

>>> o = parse_flags(["--ip-masq", "--kube-subnet-mgr", "--healthz-port=8081"], {})
>>> (o.ip_masq, o.kube_subnet_mgr, o.healthz_port, o.iptables_resync)
(True, True, 8081, 5)
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass
class Options:
    """The flags the emulation honours, with flanneld's defaults (§2.1)."""

    ip_masq: bool = False
    kube_subnet_mgr: bool = False
    iface: list[str] = field(default_factory=list)
    public_ip: str = ""
    public_ipv6: str = ""
    subnet_file: str = "/run/flannel/subnet.env"
    net_config_path: str = "/etc/kube-flannel/net-conf.json"
    kube_annotation_prefix: str = "flannel.alpha.coreos.com"
    kubeconfig_file: str = ""
    iptables_resync: int = 5
    iptables_forward_rules: bool = True
    ip_masq_fully_random_disable: bool = False
    ip_blackhole_route: bool = False
    set_node_network_unavailable: bool = True
    healthz_ip: str = "0.0.0.0"
    healthz_port: int = 0


def _bool(value: str) -> bool:
    v = value.lower()
    if v in ("1", "t", "true"):
        return True
    if v in ("0", "f", "false"):
        return False
    raise argparse.ArgumentTypeError(f'invalid boolean value "{value}"')


class FlagError(ValueError):
    """A bad flag, reported like Go's flag package and exit 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise FlagError(message)


def parse_flags(argv: list[str], environ: Mapping[str, str]) -> Options:
    """Parse ``argv`` (after the program name) over env ``FLANNELD_*`` defaults."""
    defaults = Options()
    p = _Parser(prog="flanneld", add_help=False, allow_abbrev=False)
    for name, value in vars(defaults).items():
        flag = "--" + name.replace("_", "-")
        env = environ.get("FLANNELD_" + name.upper())
        if isinstance(value, bool):
            default = _bool(env) if env is not None else value
            p.add_argument(flag, type=_bool, nargs="?", const=True, default=default)
        elif isinstance(value, list):
            p.add_argument(flag, action="append", default=[env] if env else None)
        else:
            kind = type(value)
            p.add_argument(flag, type=kind, default=kind(env) if env else value)
    # Go accepts single-dash long flags too
    norm = [
        "-" + a if a.startswith("-") and not a.startswith("--") and len(a) > 2 else a
        for a in argv
    ]
    ns = p.parse_args(norm)
    opts = Options(**{k: v for k, v in vars(ns).items() if v is not None})
    return opts
