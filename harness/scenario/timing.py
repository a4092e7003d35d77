"""Each scenario's wall time (set-up, steps and teardown of its cluster), printed at the
end of the run, slowest first, with its outcome. Tests marked ``scenarios`` count, YAML
or Python; with pytest-xdist the reports reach the controller, which prints them.

>>> t = ScenarioTimes()
>>> t.add("scenarios/reboot.yaml::reboot[v0.27.3-containerd-1.7]", 3.0, "passed")
>>> t.add("scenarios/reboot.yaml::reboot[v0.27.3-containerd-1.7]", 0.5, "passed")
>>> print("\\n".join(t.lines()))
scenario wall times (1 scenarios, 3.5s in all):
     3.5s  passed  reboot[v0.27.3-containerd-1.7]  (scenarios/reboot.yaml)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

TAG = "cniscrub-scenario"  # the user property that marks a scenario's reports


@dataclass(eq=False)  # a plugin object: hashable by identity
class ScenarioTimes:
    seconds: dict[str, float] = field(default_factory=dict)
    outcome: dict[str, str] = field(default_factory=dict)

    def add(self, nodeid: str, seconds: float, outcome: str) -> None:
        self.seconds[nodeid] = self.seconds.get(nodeid, 0.0) + seconds
        if self.outcome.get(nodeid) in (None, "passed") or outcome == "failed":
            self.outcome[nodeid] = outcome

    def lines(self) -> list[str]:
        total = sum(self.seconds.values())
        out = [
            f"scenario wall times ({len(self.seconds)} scenarios, {total:.1f}s in all):"
        ]
        for nodeid, secs in sorted(self.seconds.items(), key=lambda kv: -kv[1]):
            where, _, name = nodeid.rpartition("::")
            out.append(f"  {secs:6.1f}s  {self.outcome[nodeid]:<7} {name}  ({where})")
        return out

    # -- pytest hooks (registered as a plugin object) ------------------------------------
    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        for item in items:
            if item.get_closest_marker("scenarios"):
                item.user_properties.append((TAG, item.name))

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if not any(key == TAG for key, _ in report.user_properties):
            return
        outcome = report.outcome if report.when == "call" or report.failed else "passed"
        if report.skipped:
            return  # a skipped scenario took no time worth showing
        self.add(report.nodeid, report.duration, outcome)

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self.seconds:
            terminalreporter.write_sep("-", "scenario wall times")
            for line in self.lines()[1:]:
                terminalreporter.write_line(line)
            terminalreporter.write_line(self.lines()[0].rstrip(":"))
