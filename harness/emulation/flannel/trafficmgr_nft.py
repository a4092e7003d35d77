"""nftables traffic manager of the flanneld emulation (test emulation; §2.5, §2.6).

``EnableNFTables: true``: tables ``ip flannel-ipv4`` and ``ip6 flannel-ipv6``
created at init, chains ``postrtg``/``forward`` flushed and rewritten at start with
``nft -f -``. No periodic resync (§2.5).

>>> parse_listed_table('''table ip flannel-ipv4 {
... \\tchain forward {
... \\t\\tcomment "x"
... \\t\\ttype filter hook forward priority filter; policy accept;
... \\t\\tip saddr 10.244.0.0/16 accept
... \\t}
... }''')
{'forward': ['ip saddr 10.244.0.0/16 accept']}
"""

from __future__ import annotations

import logging
import subprocess

from harness.emulation.flannel.rules import (
    NFT_TABLES,
    nft_delete_script,
    nft_init_script,
    nft_script,
)

log = logging.getLogger(__name__)


class NFTError(RuntimeError):
    """An nft command failed; carries argv and output."""


def _nft(args: list[str], stdin: str | None = None) -> str:
    argv = ["nft", *args]
    log.debug("RUN %s", argv)
    proc = subprocess.run(argv, input=stdin, capture_output=True, text=True)
    if proc.returncode != 0:
        raise NFTError(f"{argv} failed ({proc.returncode}): {proc.stderr.strip()}")
    return proc.stdout


def parse_listed_table(text: str) -> dict[str, list[str]]:
    """``nft list table`` output to chain -> rule lines (hook/comment lines dropped)."""
    chains: dict[str, list[str]] = {}
    current: list[str] | None = None
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("chain ") and line.endswith("{"):
            current = chains.setdefault(line.split()[1], [])
        elif line == "}":
            current = None
        elif (
            current is not None and line and not line.startswith(("type ", "comment "))
        ):
            current.append(line)
    return chains


class NFTablesManager:
    """Both families' flannel tables."""

    def init(self) -> None:
        """Create both tables, even with IPv6 disabled (§2.5)."""
        _nft(["-f", "-"], nft_init_script())

    def setup(self, family: int, network: str, pod_cidr: str, ip_masq: bool) -> None:
        """Create, flush and rewrite the chains of ``family``."""
        _nft(["-f", "-"], nft_script(family, network, pod_cidr, ip_masq=ip_masq))

    def listed(self, family: int) -> dict[str, list[str]]:
        """The chains of the family's flannel table as ``nft`` lists them."""
        fam, table = NFT_TABLES[family]
        return parse_listed_table(_nft(["list", "table", fam, table]))

    def tables_present(self) -> list[str]:
        """Names of flannel tables in the ruleset."""
        out = _nft(["list", "tables"])
        names = {t for _, t in NFT_TABLES.values()}
        words = [ln.split() for ln in out.splitlines()]
        return [w[-1] for w in words if w and w[-1] in names]

    def delete_tables(self, reason: str = "") -> None:
        """Delete both tables; errors only logged (§2.6)."""
        if reason:
            log.info("%s", reason)
        for family in (4, 6):
            try:
                _nft(["-f", "-"], nft_delete_script((family,)))
            except (NFTError, OSError) as e:
                log.debug("delete flannel table (ipv%d): %s", family, e)
