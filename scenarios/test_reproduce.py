"""``cniscrub-lab reproduce`` end to end: the famous sandbox error on a laptop, then
cleaned. The error's wording per runtime and per cni-plugin version is the
``sandbox-error-wording`` and ``reboot`` scenarios' (scenarios/*.yaml); the expected text
is the reference's (:mod:`harness.actions.wording`, fact: flannel-footprint.md §3.4,
§3.5).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from harness import matrix
from harness.actions.wording import manifest_cni_plugin, sandbox_error_pattern
from harness.providers.base import Provider

pytestmark = [pytest.mark.scenarios]


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
    plugin = manifest_cni_plugin(matrix.manifest_path(data["flannel_version"]))
    assert re.fullmatch(
        sandbox_error_pattern(data["runtime"], plugin), data["event_message"]
    ), data["event_message"]
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
