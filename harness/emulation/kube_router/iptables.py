"""iptables and ipset commands of the kube-router emulation (test emulation).

kube-router shells out to ``iptables``/``iptables-restore``/``ipset`` (its image bundles
the iptables wrapper, so rules land in whichever backend the node uses). Rules are
checked with ``-C``, kept at position 1 by delete + ``-I 1``, and whole controller
chains are rewritten in one ``iptables-restore --noflush`` transaction. ipsets are
refreshed atomically through a temporary ``TMP-<base32>`` set that is swapped in and
destroyed (kube-router-footprint.md §2.5).
"""

from __future__ import annotations

import base64
import hashlib
import logging
import subprocess

from harness.emulation.kube_router.rules import Rule, restore_line

log = logging.getLogger(__name__)


class CommandFailed(RuntimeError):
    """An iptables/ipset command failed; carries argv and stderr."""


def run(argv: list[str], stdin: str | None = None, check: bool = True) -> str:
    log.debug("RUN %s", argv)
    proc = subprocess.run(argv, input=stdin, capture_output=True, text=True, timeout=60)
    if check and proc.returncode != 0:
        raise CommandFailed(f"{argv} failed ({proc.returncode}): {proc.stderr.strip()}")
    return proc.stdout if proc.returncode == 0 else ""


class IPTables:
    """IPv4 rules through the node's ``iptables`` (``-w``: honour the xtables lock)."""

    cmd = "iptables"

    def exists(self, rule: Rule) -> bool:
        argv = [self.cmd, "-w", *rule.argv("-C")]
        return subprocess.run(argv, capture_output=True, timeout=60).returncode == 0

    def insert_first_if_missing(self, rule: Rule) -> None:
        if not self.exists(rule):
            run([self.cmd, "-w", *rule.argv("-I", 1)])

    def append_if_missing(self, rule: Rule) -> None:
        if not self.exists(rule):
            run([self.cmd, "-w", *rule.argv("-A")])

    def delete_all(self, rule: Rule) -> None:
        for _ in range(100):  # bounded: a rule can be present several times
            if not self.exists(rule):
                return
            run([self.cmd, "-w", *rule.argv("-D")])

    def first_rule(self, table: str, chain: str) -> str:
        out = run([self.cmd, "-w", "-t", table, "-S", chain], check=False)
        rules = [line for line in out.splitlines() if line.startswith("-A ")]
        return rules[0] if rules else ""

    def keep_first(self, rules: list[Rule]) -> None:
        """Each rule at position 1 of its chain (§2.4: re-asserted every sync)."""
        for rule in rules:
            if self.first_rule(rule.table, rule.chain) == rule.save_line():
                continue
            deletes = [restore_line(rule, "-D")] if self.exists(rule) else []
            lines = [f"*{rule.table}", *deletes, restore_line(rule, "-I", 1), "COMMIT"]
            self.restore("\n".join(lines) + "\n")

    def restore(self, payload: str) -> None:
        run([f"{self.cmd}-restore", "--noflush", "-w"], payload)

    def chains(self, table: str) -> list[str]:
        out = run([f"{self.cmd}-save", "-t", table])
        return [ln[1:].split()[0] for ln in out.splitlines() if ln.startswith(":")]


def tmp_set_name(name: str) -> str:
    """``TMP-`` + 16 base32 characters (ipset names are at most 31 characters)."""
    digest = hashlib.sha256(name.encode()).digest()
    return "TMP-" + base64.b32encode(digest).decode()[:16]


def ipset_refresh(name: str, kind: str, entries: list[str]) -> None:
    """Create ``name`` if missing and replace its members atomically (§2.5)."""
    tmp = tmp_set_name(name)
    create = f"{kind} family inet hashsize 1024 maxelem 65536 timeout 0"
    lines = [f"create {name} {create}", f"create {tmp} {create}", f"flush {tmp}"]
    lines += [f"add {tmp} {e} timeout 0" for e in entries]
    lines += [f"swap {tmp} {name}", f"destroy {tmp}"]
    run(["ipset", "restore", "-exist"], "\n".join(lines) + "\n")
