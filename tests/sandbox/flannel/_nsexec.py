"""Exec argv in a sandbox test node's private mount view (test helper).

Run as ``ip netns exec <node> python _nsexec.py ROOT -- argv...``: ``ip netns exec``
already gives a new, rslave mount namespace; this binds ``ROOT/run`` over ``/run`` (with
the host's ``/run/netns`` inside so pod netns paths still resolve) and
``ROOT/var-lib-cni`` over ``/var/lib/cni``, so flanneld, the CNI plugin and host-local
write into the test's own tree, never the host's.
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
    for args in (
        ["mount", "--rbind", "/run/netns", os.path.join(run, "netns")],
        ["mount", "--rbind", run, "/run"],
        ["mount", "--bind", cni, "/var/lib/cni"],
    ):
        subprocess.run(args, check=True)
    os.execvp(argv[0], argv)


if __name__ == "__main__":
    main()
