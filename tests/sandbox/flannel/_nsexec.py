"""Exec argv in a sandbox test node's private mount view (test helper).

Run as ``ip netns exec <node> python _nsexec.py ROOT -- argv...``: ``ip netns exec``
already gives a new, rslave mount namespace; this binds ``ROOT/run`` over ``/run`` (with
the host's ``/run/netns`` inside so pod netns paths still resolve), puts a private overlay
over ``/var/lib`` whose upper layer is in ROOT (so the ``/var/lib/cni`` mount point is
created there, not on the host, which may have no such directory) and binds
``ROOT/var-lib-cni`` over ``/var/lib/cni``: flanneld, the CNI plugin and host-local write
into the test's own tree, never the host's.
"""

from __future__ import annotations

import os
import subprocess
import sys


def main() -> None:
    root, sep, *argv = sys.argv[1:]
    assert sep == "--" and argv, "usage: _nsexec.py ROOT -- argv..."
    run = os.path.join(root, "run")
    os.makedirs(os.path.join(run, "netns"), exist_ok=True)
    cni = os.path.join(root, "var-lib-cni")
    os.makedirs(cni, exist_ok=True)
    upper, work = (
        os.path.join(root, "var-lib-upper"),
        os.path.join(root, "var-lib-work"),
    )
    os.makedirs(os.path.join(upper, "cni"), exist_ok=True)
    os.makedirs(work, exist_ok=True)
    overlay = f"lowerdir=/var/lib,upperdir={upper},workdir={work}"
    for args in (
        ["mount", "--rbind", "/run/netns", os.path.join(run, "netns")],
        ["mount", "--rbind", run, "/run"],
        ["mount", "-t", "overlay", "overlay", "-o", overlay, "/var/lib"],
        ["mount", "--bind", cni, "/var/lib/cni"],
    ):
        subprocess.run(args, check=True)
    os.execvp(argv[0], argv)


if __name__ == "__main__":
    main()
