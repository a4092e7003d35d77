"""Scenario files: the shipped schema and the action registry say the same thing, every
shipped scenario loads, and every kind of mistake is reported with file, line and step
(all at once, not a traceback)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from harness.actions import ACTIONS
from harness.actions.expect_cluster import CHECKS
from harness.scenario.loader import ScenarioError, load, schema

SCENARIOS = Path(__file__).resolve().parents[3] / "scenarios"
GOOD = """\
name: tiny
description: A node is rebooted and nothing of Flannel is there to clean.
tags: [reboot]
cluster: {nodes: 2}
steps:
  - reboot: worker
  - expect: {no_residue: flannel}
    fact: nothing installed, nothing left
"""


def write(tmp_path: Path, text: str, name: str = "s.yaml") -> Path:
    path = tmp_path / "scenarios" / name
    path.parent.mkdir(exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


def issues(path: Path) -> list[str]:
    with pytest.raises(ScenarioError) as err:
        load(path)
    return [str(i) for i in err.value.issues]


def test_schema_and_registries_agree() -> None:
    step = schema()["$defs"]["step"]
    assert set(step["propertyNames"]["enum"]) == {*ACTIONS, "name", "fact"}
    assert set(step["properties"]) == {*ACTIONS, "name", "fact"}
    assert set(schema()["$defs"]["expect"]["properties"]) == set(CHECKS)


@pytest.mark.parametrize("path", sorted(SCENARIOS.glob("*.yaml")), ids=lambda p: p.name)
def test_every_shipped_scenario_loads_and_describes_itself(path: Path) -> None:
    scenario = load(path)
    assert scenario.name == path.stem
    assert len(scenario.description) > 80, "an operator-facing description"
    assert all(s.fact for s in scenario.steps if s.action == "expect")


def test_a_good_file_loads_with_lines_and_defaults(tmp_path: Path) -> None:
    s = load(write(tmp_path, GOOD))
    assert [(x.number, x.action, x.line) for x in s.steps] == [
        (1, "reboot", 6),
        (2, "expect", 7),
    ]
    assert s.runtimes == ("containerd-1.7",) and s.providers == ("sandbox", "kind")
    assert s.baseline.enabled and s.nodes == 2


def test_unknown_action_names_file_line_and_step(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace("  - reboot: worker", "  - rebot: worker"))
    (msg,) = issues(path)
    assert msg.startswith(f"{path}:6: step 1 (rebot): ")
    assert "'rebot'" in msg


def test_two_actions_in_one_step(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        GOOD.replace("  - reboot: worker", "  - {reboot: worker, stop: worker}"),
    )
    (msg,) = issues(path)
    assert f"{path}:6: step 1 (step): a step has exactly one action" in msg
    assert "found: reboot, stop" in msg


def test_an_expectation_must_cite_its_fact(tmp_path: Path) -> None:
    path = write(
        tmp_path, GOOD.replace("    fact: nothing installed, nothing left\n", "")
    )
    (msg,) = issues(path)
    assert msg == f"{path}:7: step 2 (expect): 'fact' is a required property"


def test_wrong_argument_points_at_its_own_line(tmp_path: Path) -> None:
    text = GOOD.replace(
        "  - expect: {no_residue: flannel}",
        "  - expect:\n      no_residue: flannel\n      node_ready: {status: maybe}",
    )
    (msg,) = issues(write(tmp_path, text))
    assert (
        ":9: step 2 (expect): node_ready.status: 'maybe' is not one of: True, False"
        in msg
    )


def test_every_mistake_at_once(tmp_path: Path) -> None:
    text = GOOD.replace(
        "cluster: {nodes: 2}",
        "matrix: {flannel_versions: [v9.9.9]}\ncluster: {nodes: 2}",
    ).replace(
        "  - reboot: worker", "  - reboot: worker3\n  - kubectl: delete -f ${nope}"
    )
    found = issues(write(tmp_path, text))
    assert len(found) == 3, found
    assert ":4: matrix.flannel_versions[0]: no manifest for Flannel v9.9.9" in found[0]
    assert (
        ":7: step 1 (reboot): no node 'worker3' in a 2-node cluster (control-plane, worker)"
        in found[1]
    )
    assert ":8: step 2 (kubectl): unknown parameter ${nope}" in found[2]


def test_invalid_yaml_is_a_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace("tags: [reboot]", "tags: [reboot"))
    (msg,) = issues(path)
    assert msg.startswith(f"{path}:4: invalid YAML"), msg


def test_missing_description_and_bad_name(tmp_path: Path) -> None:
    text = GOOD.replace("name: tiny", "name: Tiny Scenario").replace(
        "description: A node is rebooted and nothing of Flannel is there to clean.\n",
        "",
    )
    found = issues(write(tmp_path, text))
    assert any("'description' is a required property" in f for f in found)
    assert any(":1: name: 'Tiny Scenario' does not match" in f for f in found)
