"""pytest collects scenario files itself: every ``scenarios/*.yaml`` becomes one test per
matrix variant, ``name[<flannel version>-<runtime>]``, marked ``scenarios`` and with
each of the file's tags (``-m reboot``), run on the provider ``--provider`` chose.

A file that does not pass its schema is a collection error whose text is the list of
mistakes (file, line, step), not a traceback. A scenario whose matrix leaves out the
chosen provider, or whose variants ``--flannel-version``/``--runtime`` exclude, is
collected and skipped with the reason. The provider's own ``unavailable()`` reason
skips the rest (kind, where no Docker engine runs).

>>> variant_id("v0.27.3", "containerd-1.7")
'v0.27.3-containerd-1.7'
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from harness.matrix_params import selected, values_for
from harness.providers.base import Cluster, Provider
from harness.scenario import runner
from harness.scenario.loader import ScenarioError, is_scenario_file, load
from harness.scenario.model import Scenario


def variant_id(version: str, runtime: str) -> str:
    return f"{version}-{runtime}"


class ScenarioFile(pytest.File):
    """One scenario file: its variants as test items."""

    def collect(self) -> Iterator[pytest.Item]:
        scenario = load(self.path)
        config = self.config
        for tag in scenario.tags:
            config.addinivalue_line("markers", f"{tag}: scenarios tagged {tag}")
        provider = str(config.getoption("provider", default="sandbox"))
        versions = values_for(
            scenario.flannel_versions, (), selected(config, "flannel_version")
        )
        runtimes = values_for(scenario.runtimes, (), selected(config, "runtime"))
        variants = [(v, r) for v in versions for r in runtimes]
        if not variants:
            yield self._item(scenario, "excluded", {}, _excluded(scenario, config))
            return
        skip = None
        if provider not in scenario.providers:
            skip = (
                f"scenario {scenario.name} does not apply to provider {provider} "
                f"(its matrix: {', '.join(scenario.providers)})"
            )
        for version, runtime in variants:
            params = {
                "flannel_version": version,
                "runtime": runtime,
                "provider": provider,
            }
            yield self._item(scenario, variant_id(version, runtime), params, skip)

    def _item(
        self, scenario: Scenario, variant: str, params: dict[str, str], skip: str | None
    ) -> ScenarioItem:
        item = ScenarioItem.from_parent(
            self,
            name=f"{scenario.name}[{variant}]",
            callobj=_test(scenario, variant, params),
        )
        item.scenario = scenario
        for tag in ("scenarios", *scenario.tags):
            item.add_marker(tag)
        if skip:
            item.add_marker(pytest.mark.skip(reason=skip))
        return item

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException]) -> Any:  # type: ignore[override]
        if isinstance(excinfo.value, ScenarioError):
            return f"invalid scenario file:\n{excinfo.value}"
        return super().repr_failure(excinfo)


def _excluded(scenario: Scenario, config: pytest.Config) -> str:
    chosen = [
        *(selected(config, "flannel_version") or []),
        *(selected(config, "runtime") or []),
    ]
    return (
        f"{' '.join(chosen)} is outside scenario {scenario.name}'s matrix "
        f"({', '.join(scenario.flannel_versions)} x {', '.join(scenario.runtimes)})"
    )


def _test(
    scenario: Scenario, variant: str, params: dict[str, str]
) -> Callable[..., None]:
    def scenario_test(
        provider: Provider, cluster_factory: Callable[..., Cluster], request: Any
    ) -> None:
        spec: dict[str, Any] = {
            "runtime": params["runtime"],
            "cni_bin_set": scenario.cni_bin_set,
        }
        if scenario.node_monitor_grace_period is not None:
            spec["node_monitor_grace_period"] = scenario.node_monitor_grace_period
        cluster = cluster_factory(nodes=scenario.nodes, **spec)
        reporter = request.config.pluginmanager.get_plugin("terminalreporter")
        verbose = request.config.getoption("verbose") > 1 and reporter is not None

        def log(line: str) -> None:
            if verbose:
                reporter.write_line(line)

        ctx = runner.context(cluster, scenario, params, log)
        runner.run(ctx, scenario, variant)

    return scenario_test


class ScenarioItem(pytest.Function):
    """A scenario variant; a failure prints the scenario's own report."""

    scenario: Scenario

    def repr_failure(
        self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None
    ) -> Any:
        if isinstance(excinfo.value, runner.ScenarioFailed):
            return str(excinfo.value)
        return super().repr_failure(excinfo)

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, self.scenario.line - 1, self.name


def pytest_collect_file(
    file_path: Path, parent: pytest.Collector
) -> pytest.Collector | None:
    if is_scenario_file(file_path):
        scenario_file: ScenarioFile = ScenarioFile.from_parent(parent, path=file_path)
        return scenario_file
    return None
