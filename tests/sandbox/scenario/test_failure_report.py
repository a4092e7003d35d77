"""A failed expectation explains itself (pytester, a real sandbox cluster): the report
names the scenario, the failed step with its file line and fact, every step with ✓ / ✗
/ ·, and the per-node state diff since the ``start`` snapshot, with objects named as an
operator reads them. Here a "runbook" flushes a foreign rule and deletes podman's lease,
so the implicit ``baseline_intact`` check must fail and show exactly those."""

from __future__ import annotations

import os
import shutil

import pytest

pytestmark = [pytest.mark.sandbox]

BROKEN = """\
name: broken
description: An operator's hand-made cleanup deletes more than Flannel's state.
tags: [selftest]
matrix: {flannel_versions: [v0.27.3]}
cluster: {nodes: 1}
steps:
  - shell: |
      iptables -D INPUT -p tcp -m tcp --dport 22 -j ACCEPT
      rm -f /var/lib/cni/networks/podman/10.88.0.5
      ip link add cni0 type bridge
  - expect:
      files: {present: [/var/lib/cni/networks/podman/10.88.0.5]}
    fact: the baseline's podman lease (harness/baseline.py)
  - reboot: all
"""


@pytest.fixture
def needs_root() -> None:
    if os.geteuid() != 0 or not shutil.which("nsenter"):
        pytest.skip("needs root and util-linux (a sandbox cluster)")


@pytest.mark.usefixtures("needs_root")
def test_a_broken_expectation_prints_the_state_diff(pytester: pytest.Pytester) -> None:
    path = pytester.path / "scenarios" / "broken.yaml"
    path.parent.mkdir()
    path.write_text(BROKEN)
    result = pytester.runpytest_subprocess("-p", "no:randomly", timeout=240)
    result.assert_outcomes(failed=1)
    out = result.stdout.str()
    result.stdout.fnmatch_lines(
        [
            "scenario broken[v0.27.3-containerd-1.7] failed at step 2 (expect), "
            f"{path}:11",
            "*files: *-control-plane: /var/lib/cni/networks/podman/10.88.0.5 is missing",
            "*fact: the baseline's podman lease (harness/baseline.py)",
            "steps:",
            "*✓  1 shell: iptables -D INPUT -p tcp -m tcp --dport 22 -j ACCEPT … *",
            "*✗  2 expect: files *",
            "*·  3 reboot: all * not run",
            'state diff since snapshot "start":',
            "node *-control-plane:",
        ]
    )
    for line in (
        '  - rule "-A INPUT -p tcp --dport 22 -j ACCEPT" (filter, nft)',
        "  - file /var/lib/cni/networks/podman/10.88.0.5",
        "  + link cni0 (bridge)",
    ):
        assert line in out.splitlines(), line
    assert "Traceback" not in out
    assert "scenario wall times" in out
