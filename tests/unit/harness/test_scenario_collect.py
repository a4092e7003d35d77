"""pytest collects ``scenarios/*.yaml`` itself (pytester): readable ids per matrix
variant, markers from tags, ``--flannel-version``/``--runtime`` narrowing, the chosen
provider (kind's scenarios collected and skipped with kind's own reason here), and a
broken file reported as file, line and step instead of a traceback."""

from __future__ import annotations

import textwrap

import pytest

from harness import matrix

SCENARIO = """\
name: {name}
description: A node reboots after Flannel was removed with kubectl only.
tags: [{tag}]
matrix: {{flannel_versions: all, runtimes: [containerd-1.7, crio], providers: {providers}}}
steps:
  - reboot: worker
"""


def scenario(
    pytester: pytest.Pytester,
    name: str,
    tag: str = "reboot",
    providers: str = "[sandbox, kind]",
) -> None:
    path = pytester.path / "scenarios" / f"{name}.yaml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(SCENARIO.format(name=name, tag=tag, providers=providers))


def ids(result: pytest.RunResult) -> list[str]:
    return [line.split("::")[-1] for line in result.outlines if "::" in line]


def test_one_item_per_variant_with_readable_ids(pytester: pytest.Pytester) -> None:
    scenario(pytester, "reboot")
    result = pytester.runpytest("--collect-only", "-q")
    expected = [
        f"reboot[{v}-{r}]"
        for v in matrix.flannel_versions()
        for r in ("containerd-1.7", "crio")
    ]
    assert sorted(ids(result)) == sorted(expected)  # (pytest-randomly shuffles)


def test_options_narrow_the_matrix(pytester: pytest.Pytester) -> None:
    scenario(pytester, "reboot")
    result = pytester.runpytest(
        "--collect-only", "-q", "--flannel-version", "v0.27.3", "--runtime", "crio"
    )
    assert ids(result) == ["reboot[v0.27.3-crio]"]


def test_excluded_variants_are_collected_and_skipped(pytester: pytest.Pytester) -> None:
    scenario(pytester, "reboot")
    result = pytester.runpytest("-rs", "--runtime", "dockershim")
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(["*dockershim is outside scenario reboot's matrix*"])


def test_tags_are_markers(pytester: pytest.Pytester) -> None:
    scenario(pytester, "reboot", tag="reboot")
    scenario(pytester, "node-down", tag="node_down")
    picked = ids(
        pytester.runpytest(
            "--collect-only", "-q", "--strict-markers", "-m", "node_down"
        )
    )
    assert picked and all(i.startswith("node-down[") for i in picked)
    every = ids(pytester.runpytest("--collect-only", "-q", "-m", "scenarios"))
    assert len(every) == 2 * len(picked)


def test_kind_scenarios_skip_with_the_providers_reason(
    pytester: pytest.Pytester,
) -> None:
    scenario(pytester, "reboot")
    result = pytester.runpytest(
        "-rs", "--provider", "kind", "--flannel-version", "v0.27.3", "--runtime", "crio"
    )
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(["*provider kind: *"])


def test_a_scenario_for_another_provider_says_so(pytester: pytest.Pytester) -> None:
    scenario(pytester, "kind-only", providers="[kind]")
    result = pytester.runpytest(
        "-rs", "--flannel-version", "v0.27.3", "--runtime", "crio"
    )
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(
        ["*scenario kind-only does not apply to provider sandbox (its matrix: kind)*"]
    )


def test_a_broken_file_is_a_readable_collection_error(
    pytester: pytest.Pytester,
) -> None:
    path = pytester.path / "scenarios" / "bad.yaml"
    path.parent.mkdir()
    path.write_text(
        textwrap.dedent(
            """\
            name: bad
            description: A step with a typo in its action, and an unknown check.
            steps:
              - rebooot: worker
              - expect: {no_residu: flannel}
                fact: none
            """
        )
    )
    result = pytester.runpytest("--collect-only", "-q")
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines(
        [
            "invalid scenario file:",
            f"{path}:4: step 1 (rebooot): *'rebooot'*",
            f"{path}:5: step 2 (expect): *'no_residu' was unexpected*",
        ]
    )
    assert "Traceback" not in result.stdout.str()
