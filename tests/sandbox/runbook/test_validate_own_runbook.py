"""An operator's own YAML runbook with ``--baseline``: a failing step is reported with
its output and the run goes on; ``on_failure: stop`` skips the rest; an ``expect`` that
does not hold and a destroyed object of the operator's baseline each set their exit
bit; a runbook with mistakes exits 2 before any cluster is built."""

from __future__ import annotations

from pathlib import Path

import pytest
from validate_lab import Validated, validate

from harness.cli.main import main
from harness.runbook.verdict import Verdict

pytestmark = [pytest.mark.sandbox, pytest.mark.slow]

BASELINE = """\
ip link add opbr0 type bridge
iptables-legacy -A INPUT -p tcp --dport 2222 -j ACCEPT
echo keep > /etc/cni/net.d/99-ops.conf
"""
RUNBOOK = """\
name: ops-check
steps:
  - name: a typo the operator's shell would survive
    shell: ip link delete no-such-link
  - name: removes the operator's own objects
    shell: ip link delete opbr0 && iptables-legacy -F INPUT
    nodes: workers
  - expect: {no_residue: flannel}
  - name: this one stops the run
    shell: "false"
    on_failure: stop
  - shell: rm -f /etc/cni/net.d/99-ops.conf
"""


@pytest.fixture(scope="module")
def own(tmp_path_factory: pytest.TempPathFactory) -> Validated:
    tmp = tmp_path_factory.mktemp("own")
    (tmp / "ops.yaml").write_text(RUNBOOK)
    (tmp / "baseline.sh").write_text(BASELINE)
    return validate(
        tmp / "ops.yaml", tmp, "--nodes", "2", "--baseline", str(tmp / "baseline.sh")
    )


def test_exit_code_has_each_failing_verdict(own: Validated) -> None:
    assert (
        own.rc == Verdict.LEFT | Verdict.FOREIGN_DESTROYED | Verdict.EXPECT_FAILED == 56
    )
    assert own.doc["failing_verdicts"] == [
        "cni_objects_left",
        "foreign_objects_destroyed",
        "expectations_failed",
    ]


def test_a_failing_step_shows_its_output_and_the_run_goes_on(own: Validated) -> None:
    typo = own.step(1)
    assert typo["status"] == "failed"
    assert all(
        e["rc"] != 0 and "no-such-link" in e["output"] for e in typo["executions"]
    )
    assert own.step(2)["status"] == "ok"


def test_the_operators_baseline_is_foreign_and_its_loss_is_named(
    own: Validated,
) -> None:
    assert any("baseline.sh" in b for b in own.doc["setup"]["baseline"])
    workers = [n for n in own.nodes if not n.endswith("control-plane")]
    for node in own.nodes:
        destroyed = own.doc["final"][node]["destroyed"]
        assert ("link opbr0 (bridge)" in destroyed) == (node in workers)
        legacy = 'rule "-A INPUT -p tcp --dport 2222 -j ACCEPT" (filter, legacy)'
        assert (legacy in destroyed) == (
            node in workers
        )  # the other backend is read too
        assert "file /etc/cni/net.d/99-ops.conf" not in destroyed  # never ran: stopped


def test_expect_no_residue_names_what_is_left(own: Validated) -> None:
    (x,) = own.step(3)["expectations"]
    assert not x["held"] and "/opt/cni/bin/flannel" in x["detail"]


def test_stop_skips_the_rest(own: Validated) -> None:
    assert own.step(4)["status"] == "failed"
    assert own.step(5)["status"] == "skipped" and own.step(5)["executions"] == []


def test_a_runbook_with_mistakes_exits_2_naming_file_line_step(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("steps:\n  - shell: ls\n  - reboot: sideways\n")
    assert main(["validate", str(bad)]) == Verdict.USAGE == 2
    err = capsys.readouterr().err
    assert f"{bad}:3: step 2 (reboot) reboot: 'sideways' is not one of" in err
