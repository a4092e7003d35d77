"""Host paths outside a sandbox node's own trees (needed by kube-router's manifest:
hostPath ``/lib/modules``, kube-router-footprint.md §1): never created on the host."""

from __future__ import annotations

from harness.emulation.kubelet.podspec import (
    container_mounts,
    hostpath_standin,
    node_owned,
)
from harness.emulation.kubelet.shim import needs_private

POD = {
    "metadata": {"uid": "u-1", "name": "kube-router-x", "namespace": "kube-system"},
    "spec": {
        "volumes": [{"name": "lib-modules", "hostPath": {"path": "/lib/modules"}}]
    },
}
CONTAINER = {"volumeMounts": [{"name": "lib-modules", "mountPath": "/lib/modules"}]}


def test_node_owned_trees() -> None:
    assert node_owned("/etc/cni/net.d") and node_owned("/run") and node_owned("/opt")
    assert not node_owned("/lib/modules") and not node_owned("/etcetera")


def test_a_missing_host_path_is_replaced_by_a_standin() -> None:
    (plain,) = container_mounts(POD, CONTAINER)
    assert plain["source"] == "/lib/modules"
    standin = hostpath_standin(POD, "lib-modules")
    assert standin.startswith("/var/lib/kubelet/pods/u-1/")  # a node-owned tree
    (mount,) = container_mounts(POD, CONTAINER, {"lib-modules": standin})
    assert (mount["source"], mount["target"]) == (standin, "/lib/modules")


def test_mount_points_outside_private_trees_get_an_overlay() -> None:
    missing = "/usr/share/cniscrub-test-no-such-dir/x"
    assert needs_private([{"target": missing}]) == {"/usr"}
    assert needs_private([{"target": "/etc/no-such-dir"}]) == set()  # already private
    assert needs_private([{"target": "/proc"}]) == set()  # exists: bind, no new dir
