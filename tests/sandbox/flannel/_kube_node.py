"""Run the flannel image's flanneld with the API stand-in, inside one test node.

Test helper: ``python _kube_node.py OUT_JSON`` in the node's netns (+ private mounts).
Starts the API stand-in on 127.0.0.1 in this process, registers ``node1`` (this node)
and ``node2`` (a flannel lease), then runs ``FlannelImage().run`` for
``/opt/bin/flanneld --ip-masq --kube-subnet-mgr`` exactly as the kubelet shim would,
until SIGTERM; finally dumps the stored Node objects to OUT_JSON.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile

from harness.emulation.apiserver.kubeconfig import write_kubeconfig
from harness.emulation.apiserver.threaded import ThreadedServer
from harness.emulation.flannel.image import FlannelImage
from harness.emulation.images.base import ContainerContext

A = "flannel.alpha.coreos.com/"


def main() -> int:
    out = sys.argv[1]
    server = ThreadedServer("127.0.0.1", 0).start()
    tmp = tempfile.mkdtemp()
    kubeconfig = str(write_kubeconfig(os.path.join(tmp, "kubeconfig"), server.url, "t"))

    def node(name: str, cidr: str, ann: dict[str, str]) -> dict[str, object]:
        return {
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {"name": name, "annotations": ann},
            "spec": {"podCIDR": cidr, "podCIDRs": [cidr]},
        }

    server.call(server.store.create, "nodes", node("node1", "10.244.1.0/24", {}))
    lease = {
        A + "backend-type": "vxlan",
        A + "backend-data": '{"VNI":1,"VtepMAC":"aa:bb:cc:00:00:02"}',
        A + "public-ip": "198.18.0.2",
        A + "kube-subnet-manager": "true",
    }
    server.call(server.store.create, "nodes", node("node2", "10.244.2.0/24", lease))
    ctx = ContainerContext(
        image="ghcr.io/flannel-io/flannel:v0.27.3",
        node_name="node1",
        pod_name="kube-flannel-ds-abcde",
        pod_namespace="kube-flannel",
        pod_uid="uid",
        container_name="kube-flannel",
        init=False,
        env={"POD_NAME": "kube-flannel-ds-abcde", "POD_NAMESPACE": "kube-flannel"},
        kubeconfig=kubeconfig,
    )
    net_conf = os.path.join(tmp, "net-conf.json")
    with open(net_conf, "w") as f:
        json.dump({"Network": "10.244.0.0/16", "Backend": {"Type": "vxlan"}}, f)
    argv = ["/opt/bin/flanneld", "--ip-masq", "--kube-subnet-mgr"]
    os.environ["FLANNELD_NET_CONFIG_PATH"] = net_conf  # real env override (§2.1)
    rc = FlannelImage().run(argv, ctx)
    nodes = server.call(server.store.list, "nodes")
    with open(out, "w") as f:
        json.dump({"rc": rc, "nodes": nodes}, f)
    server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
