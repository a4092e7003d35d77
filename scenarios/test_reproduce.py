"""The famous sandbox error, per runtime wording and per cni-plugin version (issue #4).

Each expected message is the reference's template with the ids left as patterns:
fact: flannel-footprint.md §3.4 (plugin error per cni-plugin version) and §3.5 (runtime
wrapping: containerd 1.6/1.7, CRI-O/ocicni, dockershim).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from harness import flannel_install, reproduce
from harness.providers.base import Provider

pytestmark = [pytest.mark.scenarios]

OLD = "loadFlannelSubnetEnv failed: open /run/flannel/subnet.env: no such file or directory"
NEW = (
    "failed to load flannel 'subnet.env' file: open /run/flannel/subnet.env: no such file "
    "or directory. Check the flannel pod log for this node."
)
PREFIX = "Failed to create pod sandbox: rpc error: code = Unknown desc = "
SID = "[0-9a-f]{64}"
UID = "[0-9a-f-]{36}"
EXPECTED = {
    "containerd-1.7": PREFIX
    + f'failed to setup network for sandbox "{SID}": '
    + 'plugin type="flannel" failed \\(add\\): {err}',
    "crio": PREFIX
    + f"failed to create pod network sandbox k8s_(?P<pod>web-\\d+)_default_{UID}_0\\({SID}\\): "
    'error adding pod default_(?P=pod) to CNI network "cbr0": '
    'plugin type="flannel" failed \\(add\\): {err}',
    "dockershim": PREFIX
    + f'failed to set up sandbox container "{SID}" network for pod "(?P<pod>web-\\d+)": '
    'networkPlugin cni failed to set up pod "(?P=pod)_default" network: {err}',
}


def _run(cluster_factory, runtime: str, version: str) -> reproduce.Reproduction:  # type: ignore[no-untyped-def]
    cluster = cluster_factory(nodes=3, runtime=runtime)
    manifest = flannel_install.manifest_path(version)
    r = reproduce.Reproduction(cluster, manifest, version, runtime)
    flannel_install.install(cluster, manifest)
    reproduce.start_pods(r, per_worker=1)
    reproduce.cross_node_ping(r)
    flannel_install.uninstall(cluster, manifest)
    reproduce.reboot_a_worker(r)
    reproduce.wait_for_sandbox_error(r)
    reproduce.explain(r)
    return r


@pytest.mark.matrix(runtime=list(EXPECTED), flannel_version=["v0.27.3"])
def test_sandbox_error_wording_per_runtime(  # type: ignore[no-untyped-def]
    cluster_factory, runtime: str, flannel_version: str
) -> None:
    r = _run(cluster_factory, runtime, flannel_version)
    pattern = EXPECTED[runtime].replace("{err}", re.escape(OLD))
    assert re.fullmatch(pattern, r.event), r.event
    # the cause: the leftover conflist still sorts first and names the flannel plugin
    assert r.first_conf == "10-flannel.conflist"
    assert r.first_conf_plugins == ["flannel", "portmap"]


@pytest.mark.matrix(runtime=["containerd-1.7"], flannel_version=["v0.28.9"])
def test_newer_cni_plugin_wording(  # type: ignore[no-untyped-def]
    cluster_factory, runtime: str, flannel_version: str
) -> None:
    # flannel v0.28.9 ships cni-plugin v1.9.1-flannel3, past PR #125 (v1.7.1-flannel2+)
    r = _run(cluster_factory, runtime, flannel_version)
    assert re.fullmatch(
        EXPECTED["containerd-1.7"].replace("{err}", re.escape(NEW)), r.event
    ), r.event


def test_reproduce_command_end_to_end(provider: Provider) -> None:
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "harness.cli.main",
            "--provider",
            provider.name,
            "reproduce",
            "--name",
            "pt-repro",
            "--json",
            "--clean",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert re.fullmatch(
        EXPECTED["containerd-1.7"].replace("{err}", re.escape(OLD)),
        data["event_message"],
    )
    targets = [a["target"] for a in data["residue_plan"]["actions"]]
    assert "file /etc/cni/net.d/10-flannel.conflist" in targets
    assert "file /opt/cni/bin/flannel" in targets
    assert all(
        v["apply_rc"] == 0 and v["verify_rc"] == 0 for v in data["cleaned"].values()
    )
    # nodes that were not rebooted still hold kernel state (fact: flannel-footprint.md §7)
    others = [p for n, p in data["residue_plans"].items() if n != data["rebooted_node"]]
    assert others
    assert all(any(a["kind"] == "link" for a in plan["actions"]) for plan in others)
    # cluster side: kubectl delete -f leaves annotations and the condition (§2.7, §7)
    residue = data["cluster_residue"]
    assert any("flannel.alpha.coreos.com/backend-data" in i for i in residue)
    assert any("NetworkUnavailable=False/FlannelIsUp" in i for i in residue)
