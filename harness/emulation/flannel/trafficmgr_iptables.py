"""iptables traffic manager of the flanneld emulation (test emulation; §2.4, §2.6).

Rules from :mod:`rules` are applied with ``iptables-restore --noflush -w`` (or
``ip6tables-restore``), through whichever backend ``iptables`` resolves to, and
checked with ``iptables-save``. :meth:`IPTablesManager.ensure` is the 5 s resync: if any
rule is missing, all are deleted and re-added.
"""

from __future__ import annotations

import logging
import subprocess

from harness.emulation.flannel.rules import (
    FWD_CHAIN,
    POSTRTG_CHAIN,
    Rule,
    restore_payload,
)

log = logging.getLogger(__name__)


class IPTablesError(RuntimeError):
    """An iptables command failed; carries argv and output."""


class IPTablesManager:
    """One address family's flannel rules.

    >>> IPTablesManager(6).restore_argv
    ['ip6tables-restore', '--noflush', '-w']
    """

    def __init__(self, family: int = 4) -> None:
        self.family = family
        prefix = "iptables" if family == 4 else "ip6tables"
        self.tag = f"ipv{family}"
        self.cmd = prefix
        self.restore_argv = [f"{prefix}-restore", "--noflush", "-w"]
        self.save_argv = [f"{prefix}-save"]

    def _run(self, argv: list[str], stdin: str | None = None) -> str:
        log.debug("RUN %s", argv)
        proc = subprocess.run(argv, input=stdin, capture_output=True, text=True)
        if proc.returncode != 0:
            raise IPTablesError(
                f"{argv} failed ({proc.returncode}): {proc.stderr.strip()}"
            )
        return proc.stdout

    def save(self, table: str) -> list[str]:
        """``iptables-save -t <table>`` rule lines."""
        out = self._run([*self.save_argv, "-t", table])
        return [line for line in out.splitlines() if line.startswith("-A ")]

    def chains(self, table: str) -> list[str]:
        """Chain names declared in ``table``."""
        out = self._run([*self.save_argv, "-t", table])
        return [ln[1:].split()[0] for ln in out.splitlines() if ln.startswith(":")]

    def missing(self, rules: list[Rule]) -> list[Rule]:
        """Rules of ``rules`` not present in the kernel."""
        present: dict[str, set[str]] = {}
        for table in {r.table for r in rules}:
            present[table] = set(self.save(table))
        return [r for r in rules if r.save_line() not in present[r.table]]

    def _jumps_present(self, rules: list[Rule]) -> list[Rule]:
        """Every present copy of the builtin-chain jumps in ``rules``."""
        out: list[Rule] = []
        for table in dict.fromkeys(r.table for r in rules):
            lines = self.save(table)
            for r in rules:
                if r.table == table and r.chain not in (POSTRTG_CHAIN, FWD_CHAIN):
                    out += [r] * lines.count(r.save_line())
        return out

    def apply(self, rules: list[Rule]) -> None:
        """Delete present copies, then (re)create every rule, in one restore."""
        payload = restore_payload(rules, delete=self._jumps_present(rules))
        self._run(self.restore_argv, payload)

    def ensure(self, rules: list[Rule]) -> bool:
        """The resync: re-apply all rules when any is missing; True if it did."""
        if not self.missing(rules):
            return False
        log.info("Some iptables rules are missing; deleting and recreating rules")
        self.apply(rules)
        return True

    def teardown(self, rules: list[Rule]) -> None:
        """v0.25-v0.26 shutdown: remove rules and jumps, keep empty chains (§2.6)."""
        log.info("iptables (%s): cleaning-up before exiting flannel...", self.tag)
        tables = list(dict.fromkeys(r.table for r in rules))
        delete = self._jumps_present(rules)
        out: list[str] = []
        for table in tables:
            chain = POSTRTG_CHAIN if table == "nat" else FWD_CHAIN
            out += [f"*{table}", f":{chain} - [0:0]", f"-F {chain}"]
            out += [d.line("-D") for d in delete if d.table == table]
            out.append("COMMIT")
        self._run(self.restore_argv, "\n".join(out) + "\n")

    def clear_and_delete_chain(self, table: str, chain: str) -> None:
        """``ClearAndDeleteChain`` (v0.27+ start in nft mode); errors logged at V(2)."""
        for argv in (
            [self.cmd, "-w", "-t", table, "-F", chain],
            [self.cmd, "-w", "-t", table, "-X", chain],
        ):
            try:
                self._run(argv)
            except (IPTablesError, OSError) as e:
                log.debug("cleanup %s/%s: %s", table, chain, e)
                return
