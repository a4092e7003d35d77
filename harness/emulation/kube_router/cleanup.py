"""``kube-router --cleanup-config`` (test emulation; kube-router-footprint.md §4).

In kube-router's order: (1) the network policy controller saves the filter table, drops
every line that names ``KUBE-ROUTER-INPUT/FORWARD/OUTPUT``, ``KUBE-NWPLCY-DEFAULT``,
``KUBE-NWPLCY-COMMON``, a ``KUBE-POD-FW-*`` or a ``KUBE-NWPLCY-<hash>`` chain, restores
it with ``iptables-restore -T filter`` and destroys the policy ipsets; (2) the service
proxy deletes its INPUT jump and ``KUBE-ROUTER-SERVICES`` and ``kube-dummy-if`` (it
would flush *every* IPVS virtual server: IPVS is not emulated here); (3) the routes
controller deletes the pod-egress MASQUERADE rules and then destroys **every** ipset
``ipset save`` lists (one still referenced by a rule cannot be destroyed and stays).
Not removed (no step for them): kube-bridge, tunnels, proto-17 routes, the table-77
rule and routes, the FORWARD ACCEPTs, the CNI conf, the plugins, the IPAM store.

>>> print(drop_netpol("*filter\\n:KUBE-ROUTER-INPUT - [0:0]\\n-A INPUT -j ACCEPT\\n"
...                   "-A INPUT -m comment --comment x -j KUBE-ROUTER-INPUT\\nCOMMIT\\n"))
*filter
-A INPUT -j ACCEPT
COMMIT
<BLANKLINE>
"""

from __future__ import annotations

import logging
import re

from pyroute2 import IPRoute

from harness.emulation.kube_router import rules
from harness.emulation.kube_router.iptables import IPTables, run

log = logging.getLogger(__name__)

NETPOL_CHAINS = re.compile(
    r"KUBE-ROUTER-(?:INPUT|FORWARD|OUTPUT)\b|KUBE-NWPLCY-(?:DEFAULT|COMMON)\b"
    r"|KUBE-POD-FW-|KUBE-NWPLCY-[A-Z2-7]{16}\b"
)
SERVICE_CHAINS = re.compile(r"KUBE-ROUTER-SERVICES\b")
NETPOL_SETS = re.compile(r"^(?:KUBE-SRC-|KUBE-DST-|kube-router-local-pods$)")
DUMMY_IF = "kube-dummy-if"


def drop_netpol(save: str, pattern: re.Pattern[str] = NETPOL_CHAINS) -> str:
    """An ``iptables-save`` text without the lines that name ``pattern``'s chains."""
    kept = [line for line in save.splitlines() if not pattern.search(line)]
    return "\n".join(kept) + "\n"


def _restore_filter(pattern: re.Pattern[str]) -> None:
    save = run(["iptables-save", "-t", "filter"])
    run(["iptables-restore", "-w", "-T", "filter"], drop_netpol(save, pattern))


def _sets() -> list[str]:
    out = run(["ipset", "save"], check=False)
    return [ln.split()[1] for ln in out.splitlines() if ln.startswith("create ")]


def _destroy(names: list[str]) -> None:
    for name in names:
        try:
            run(["ipset", "destroy", name])
        except Exception as e:  # in use by a rule: kube-router logs and goes on
            log.error("Failed to destroy ipset %s: %s", name, e)


def cleanup_config() -> int:
    """The three cleanups; errors are logged, never fatal."""
    log.info("Cleaning up the network policy controller's iptables rules")
    _restore_filter(NETPOL_CHAINS)
    _destroy([s for s in _sets() if NETPOL_SETS.match(s)])
    log.info("Cleaning up the service proxy (IPVS is not emulated)")
    _restore_filter(SERVICE_CHAINS)
    with IPRoute() as ipr:
        for index in ipr.link_lookup(ifname=DUMMY_IF):
            ipr.link("del", index=index)
    log.info("Cleaning up the routes controller: pod egress rules and all ipsets")
    ipt = IPTables()
    for rule in [rules.masquerade(), *rules.bad_masquerade_variants()]:
        ipt.delete_all(rule)
    _destroy(_sets())
    return 0
