"""The kube-router image's ``install-cni`` init container on a real node file view
(fact: kube-router-footprint.md §1, "The install-cni init container" and "CNI
binaries"): the manifest's own script, run by the node's POSIX shell."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from kr_lab import CONFLIST, Lab, manifest_cni_conf, run_install_cni

pytestmark = pytest.mark.sandbox
NETD = "/etc/cni/net.d"
PLUGINS = ("bridge", "portmap", "host-local", "loopback")


def listing(lab: Lab, path: str) -> list[str]:
    return sorted(lab.nodes[0].exec(["ls", "-A", path]).stdout.split())


def test_clean_node_gets_the_configmap_text_and_the_four_plugins(lab: Lab) -> None:
    # §1: conflist written when missing (copied via .tmp-kuberouter-cfg, renamed);
    # cni-install creates /opt/cni/bin and installs the four plugins, mode 0755
    node = lab.nodes[0]
    node.exec(["rm", "-rf", "/opt/cni"])
    res = run_install_cni(node)
    assert res.rc == 0, res.stderr
    assert node.read_file(CONFLIST).decode() == manifest_cni_conf()
    assert listing(lab, NETD) == ["10-kuberouter.conflist"]  # no .tmp left
    assert listing(lab, "/opt/cni/bin") == sorted(PLUGINS)
    for plugin in PLUGINS:
        path = node.path(f"/opt/cni/bin/{plugin}")
        assert path.stat().st_mode & 0o777 == 0o755
        assert path.read_bytes() == Path(f"/usr/lib/cni/{plugin}").read_bytes()
    assert "+ mv /etc/cni/net.d/.tmp-kuberouter-cfg" in res.stderr  # set -x trace


def test_existing_conflist_is_never_rewritten(lab: Lab) -> None:
    # §1: "only if it is missing, so ConfigMap edits never reach a node" (#523)
    node = lab.nodes[0]
    node.write_file(CONFLIST, '{"edited": "by hand"}')
    node.write_file(f"{NETD}/99-other.conf", "{}")
    assert run_install_cni(node).rc == 0
    assert node.read_file(CONFLIST) == b'{"edited": "by hand"}'
    assert "99-other.conf" in listing(lab, NETD)  # *.conf removal only on first install


def test_one_conf_is_removed_conflists_never(lab: Lab) -> None:
    # §1: deletes *.conf only, never *.conflist (PR #690, #684): Flannel's survives
    node = lab.nodes[0]
    node.write_file(f"{NETD}/10-flannel.conflist", '{"name": "cbr0"}')
    node.write_file(f"{NETD}/05-old.conf", "{}")
    assert run_install_cni(node).rc == 0
    assert listing(lab, NETD) == ["10-flannel.conflist", "10-kuberouter.conflist"]


def test_two_confs_make_the_test_fail_and_nothing_is_deleted(lab: Lab) -> None:
    # §1 edge case [inferred]: with two or more *.conf, `[` errors, nothing is deleted
    node = lab.nodes[0]
    node.write_file(f"{NETD}/05-a.conf", "{}")
    node.write_file(f"{NETD}/06-b.conf", "{}")
    assert run_install_cni(node).rc == 0
    assert listing(lab, NETD) == ["05-a.conf", "06-b.conf", "10-kuberouter.conflist"]


def test_present_plugins_are_kept_missing_or_not_executable_installed(lab: Lab) -> None:
    # §1 cni-install: skips a binary that exists and is executable (whatever version);
    # installs a missing or non-executable one from the image
    node = lab.nodes[0]
    node.write_file("/opt/cni/bin/bridge", "#!/bin/sh\n# the node's own\n", 0o755)
    node.write_file("/opt/cni/bin/host-local", "not executable", 0o644)
    assert run_install_cni(node).rc == 0
    assert node.read_file("/opt/cni/bin/bridge") == b"#!/bin/sh\n# the node's own\n"
    local = node.path("/opt/cni/bin/host-local")
    assert local.read_bytes() == Path("/usr/lib/cni/host-local").read_bytes()
    assert os.access(local, os.X_OK)
    assert listing(lab, "/opt/cni/bin") == sorted(PLUGINS)


def test_images_before_v2_1_have_no_cni_install(lab: Lab) -> None:
    # §1: the cni-install step exists since v2.1.0 (issue #1600); before, the plugins
    # had to be supplied: the script's `[ -x /usr/local/bin/cni-install ]` is false
    node = lab.nodes[0]
    assert run_install_cni(node, tag="v2.0.1").rc == 0
    assert listing(lab, NETD) == ["10-kuberouter.conflist"]
    assert not node.path("/opt/cni/bin").exists() or listing(lab, "/opt/cni/bin") == []
