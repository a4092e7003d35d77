"""Run argv with a light node's file view (started by ``LightNode.exec``; stdlib only).

``ip netns exec NODE python -S -I lightns.py ROOT WORK -- argv...``: ``ip netns exec``
already gives a private (rslave) mount namespace; this script lays the node's files
over the host's there and execs argv, so every command of a light node sees

* ``/etc``, ``/opt``, ``/var``: overlays whose upper dirs are ``ROOT/etc``, ``ROOT/opt``,
  ``ROOT/var`` (lower: the host's; work dirs under WORK, outside ROOT);
* ``/run``: ``ROOT/run`` itself (empty at first, like a fresh tmpfs), with the host's
  ``/run/netns`` inside so pod network namespaces still resolve by name.

The mounts vanish with the command's mount namespace: nothing is left on the host, and
between commands ``ROOT`` holds plain files (``--root ROOT`` shows the same tree).
"""

from __future__ import annotations

import ctypes
import os
import sys

OVERLAID = ("etc", "opt", "var")
MS_BIND, MS_REC = 4096, 16384
_libc = ctypes.CDLL(None, use_errno=True)


def mount(
    source: str, target: str, fstype: str = "", flags: int = 0, data: str = ""
) -> None:
    """mount(2) directly: no mount(8) process per mount (every exec pays for these)."""
    if _libc.mount(source.encode(), target.encode(), fstype.encode() or None, flags,
                   data.encode() or None) != 0:  # fmt: skip
        err = ctypes.get_errno()
        sys.exit(f"lightns: mount {source} on {target}: {os.strerror(err)}")


def main() -> None:
    root, work, sep, *argv = sys.argv[1:]
    if sep != "--" or not argv:
        sys.exit("usage: lightns.py ROOT WORK -- argv...")
    for top in OVERLAID:
        upper, wdir = os.path.join(root, top), os.path.join(work, top)
        os.makedirs(upper, exist_ok=True)
        os.makedirs(wdir, exist_ok=True)
        opts = f"lowerdir=/{top},upperdir={upper},workdir={wdir}"
        mount("overlay", f"/{top}", "overlay", 0, opts)
    run = os.path.join(root, "run")
    os.makedirs(os.path.join(run, "netns"), exist_ok=True)
    if os.path.isdir("/run/netns"):
        mount("/run/netns", os.path.join(run, "netns"), flags=MS_BIND | MS_REC)
    mount(run, "/run", flags=MS_BIND | MS_REC)
    os.execvp(argv[0], argv)


if __name__ == "__main__":
    main()
