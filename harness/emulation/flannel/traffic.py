"""Traffic manager choice and per-version lifecycle (test emulation; §2.4-§2.6).

Picks iptables or nftables (``EnableNFTables``, v0.25.0+), applies masquerade and
forward rules at start, resyncs iptables every ``--iptables-resync`` seconds, and on
SIGTERM does exactly what the version does: v0.22-v0.24 nothing; v0.25-v0.26 remove
rules (empty chains left) or delete the nft tables; v0.27+ nothing, but clean the other
mode at start.
"""

from __future__ import annotations

import logging

from harness.emulation.flannel.rules import (
    FWD_CHAIN,
    POSTRTG_CHAIN,
    Rule,
    forward_rules,
    masq_rules,
)
from harness.emulation.flannel.trafficmgr_iptables import IPTablesError, IPTablesManager
from harness.emulation.flannel.trafficmgr_nft import NFTablesManager, NFTError
from harness.emulation.flannel.versions import FlannelVersion, Shutdown

log = logging.getLogger(__name__)


class Traffic:
    """The flannel netfilter state of one node.

    ``networks``/``leases`` map family (4, 6) to the flannel Network and this node's
    podCIDR for the enabled families.
    """

    def __init__(
        self,
        version: FlannelVersion,
        *,
        nftables: bool,
        networks: dict[int, str],
        leases: dict[int, str],
        ip_masq: bool,
        forward: bool = True,
        random_fully: bool = True,
    ) -> None:
        self.version = version
        self.nft = nftables and version.nftables
        self.networks = networks
        self.leases = leases
        self.ip_masq = ip_masq
        self.forward = forward
        self.random_fully = random_fully
        self.ipt = {f: IPTablesManager(f) for f in networks}

    @property
    def mode(self) -> str:
        """``nftables`` or ``iptables``."""
        return "nftables" if self.nft else "iptables"

    def rules(self, family: int) -> list[Rule]:
        """The iptables rules flanneld keeps for ``family``."""
        out: list[Rule] = []
        net, lease = self.networks[family], self.leases[family]
        if self.ip_masq:
            out += masq_rules(net, lease, family=family, random_fully=self.random_fully)
        if self.forward:
            out += forward_rules(net)
        return out

    def clean_other_mode(self) -> None:
        """v0.27+ start: remove the unused mode's objects; errors only logged (§2.6)."""
        if self.version.shutdown is not Shutdown.CLEAN_AT_START:
            return
        log.info("Cleaning-up unused traffic manager rules")
        if self.nft:
            for family in (4, 6):
                ipt = self.ipt.get(family) or IPTablesManager(family)
                ipt.clear_and_delete_chain("nat", POSTRTG_CHAIN)
                ipt.clear_and_delete_chain("nat", FWD_CHAIN)  # sic: nat, §2.6
        else:
            NFTablesManager().delete_tables()

    def forget_previous(self, prev: dict[str, str] | None) -> None:
        """Delete masquerade rules of an older Network/subnet found in subnet.env."""
        if not prev or self.nft or not self.ip_masq:
            return
        keys = {
            4: ("FLANNEL_NETWORK", "FLANNEL_SUBNET"),
            6: ("FLANNEL_IPV6_NETWORK", "FLANNEL_IPV6_SUBNET"),
        }
        for family, (nk, sk) in keys.items():
            if family not in self.networks or not prev.get(nk) or not prev.get(sk):
                continue
            import ipaddress

            old_sn = str(ipaddress.ip_network(prev[sk], strict=False))
            if (prev[nk], old_sn) == (self.networks[family], self.leases[family]):
                continue
            log.info(
                "Deleting masquerade rules for old network %s / subnet %s",
                prev[nk],
                old_sn,
            )
            old = masq_rules(
                prev[nk], old_sn, family=family, random_fully=self.random_fully
            )
            try:
                self.ipt[family].teardown(old)
            except IPTablesError as e:
                log.warning("failed to delete old masquerade rules: %s", e)

    def setup(self) -> None:
        """Apply the rules at start (§2.4 / §2.5)."""
        if self.nft:
            mgr = NFTablesManager()
            mgr.init()
            for family, net in self.networks.items():
                mgr.setup(family, net, self.leases[family], self.ip_masq)
            return
        if self.ip_masq:
            log.info("Setting up masking rules")
        for family, ipt in self.ipt.items():
            ipt.apply(self.rules(family))

    def resync(self) -> None:
        """One iptables resync pass (no-op in nft mode, §2.5)."""
        if self.nft:
            return
        for family, ipt in self.ipt.items():
            try:
                ipt.ensure(self.rules(family))
            except (IPTablesError, OSError) as e:
                log.error("Failed to ensure iptables rules: %s", e)

    def shutdown(self) -> None:
        """SIGTERM behaviour of the version (§2.6)."""
        if self.version.shutdown is not Shutdown.REMOVE_RULES:
            return
        if self.nft:
            NFTablesManager().delete_tables("Cleaning-up flannel tables...")
            return
        for family, ipt in self.ipt.items():
            try:
                ipt.teardown(self.rules(family))
            except (IPTablesError, NFTError, OSError) as e:
                log.error("Failed to tear down iptables rules: %s", e)
