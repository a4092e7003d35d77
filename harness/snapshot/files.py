"""Files and directories as named objects, from ``find -printf '%y %m %s %T@ %p'`` and
``md5sum`` (one output: :func:`split_digests`); IPAM lease files (named by an address)
with the container ID they hold.

The fingerprint is the mode and the content digest (files over the digest limit: size
and mtime), so a foreign file that is rewritten shows up as *changed*.

>>> objects("d 755 4096 1.0 /etc/cni\\nf 644 3 2.5 /etc/cni/a.conf\\n",
...         "0cc175b9c0f1b6a831c399e269772661  /etc/cni/a.conf\\n")
{'dir /etc/cni': '755', 'file /etc/cni/a.conf': '644 0cc175b9c0f1b6a831c399e269772661'}
>>> split_digests("d 755 4096 1.0 /etc/cni\\n0cc175b9c0f1b6a831c399e269772661  /a\\n")
('d 755 4096 1.0 /etc/cni', '0cc175b9c0f1b6a831c399e269772661  /a')
>>> leases("/var/lib/cni/networks/cbr0/10.244.1.2 7634abcd\\n")
{'/var/lib/cni/networks/cbr0/10.244.1.2': '7634abcd'}
"""

from __future__ import annotations

import re

KINDS = {"f": "file", "d": "dir", "l": "symlink", "s": "socket", "p": "fifo"}
# an md5sum line (a listing line starts with its type and mode: "f 644 ...")
_DIGEST_LINE = re.compile(r"\\?[0-9a-f]{32}  ")


def split_digests(text: str) -> tuple[str, str]:
    """The listing lines and the ``md5sum`` lines of one ``find`` output."""
    listing: list[str] = []
    digests: list[str] = []
    for line in text.splitlines():
        (digests if _DIGEST_LINE.match(line) else listing).append(line)
    return "\n".join(listing), "\n".join(digests)


def objects(listing: str, digests: str) -> dict[str, str]:
    sums = {}
    for line in digests.splitlines():
        digest, _, path = line.partition("  ")
        if path:
            sums[path] = digest
    out = {}
    for line in listing.splitlines():
        parts = line.split(" ", 4)
        if len(parts) < 5:
            continue
        kind, mode, size, mtime, path = parts
        name = f"{KINDS.get(kind, 'file')} {path}"
        if kind == "f":
            out[name] = f"{mode} {sums.get(path) or f'{size}b@{mtime}'}"
        else:
            out[name] = mode
    return out


def leases(text: str) -> dict[str, str]:
    out = {}
    for line in text.splitlines():
        path, _, owner = line.partition(" ")
        if path:
            out[path] = owner.strip()
    return out
