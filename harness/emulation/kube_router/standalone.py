"""Run the kube-router emulation without an API server (test emulation, light nodes).

``python -m harness.emulation.kube_router.standalone STATE TAG [kube-router flags...]``
inside a node's network namespace; ``STATE`` is a JSON file ``{"nodes": [<Node>...],
"pods": [<Pod>...]}`` read on every sync (edit it to add peers or pods). The node name
comes from ``$NODE_NAME``; the CNI conf file from ``$KUBE_ROUTER_CNI_CONF_FILE``. The
process is titled like the pod's (``comm`` ``kube-router``).
"""

from __future__ import annotations

import sys

from harness.emulation.kube_router.main import main as kube_router
from harness.emulation.kube_router.sources import FileSource
from harness.emulation.kubelet.shim import set_title


def main() -> int:
    state, tag, *flags = sys.argv[1:]
    set_title(["/usr/local/bin/kube-router", *flags])  # comm kube-router, as in a pod
    return kube_router(flags, tag=tag, source=FileSource(state))


if __name__ == "__main__":
    sys.exit(main())
