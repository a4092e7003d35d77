"""The network policy controller of the kube-router emulation (test emulation).

A full sync (at start, when the local pods change, and every
``--iptables-sync-period``) rewrites the controller's chains in one restore with a new
sync version, so every ``KUBE-POD-FW-*`` chain gets a new name and the previous ones
(also those left by an earlier run) are deleted; then the INPUT/FORWARD/OUTPUT jumps
are put back at position 1 (kube-router-footprint.md §2.4).
"""

from __future__ import annotations

import logging
import time

from harness.emulation.kube_router import netpol
from harness.emulation.kube_router.iptables import IPTables
from harness.emulation.kube_router.netpol import LocalPod
from harness.emulation.kube_router.options import Options
from harness.emulation.kube_router.versions import KubeRouterVersion

log = logging.getLogger(__name__)


class Firewall:
    def __init__(self, opts: Options, version: KubeRouterVersion) -> None:
        self.opts, self.version = opts, version
        self.ipt = IPTables()
        self.pods: list[LocalPod] | None = None
        self.last_sync = 0.0

    def sync(self, pods: list[LocalPod]) -> bool:
        """A full sync when ``pods`` changed or the period passed; True if it ran."""
        due = time.monotonic() - self.last_sync >= self.opts.iptables_sync_period
        if pods == self.pods and not due:
            return False
        stale = [
            c
            for c in self.ipt.chains("filter")
            if c.startswith(netpol.POD_CHAIN_PREFIX)
        ]
        payload, _ = netpol.sync_payload(
            pods,
            str(time.time_ns()),
            stale,
            self.opts.service_cluster_ip_range,
            self.opts.service_node_port_range,
            common=self.version.common_chain,
        )
        self.ipt.restore(payload)
        self.ipt.keep_first(netpol.top_level_jumps())
        self.pods, self.last_sync = list(pods), time.monotonic()
        log.info("Network policy full sync: %d local pod(s)", len(pods))
        return True
