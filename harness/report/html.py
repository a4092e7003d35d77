"""The HTML report of a runbook validation: one self-contained file (inline CSS, no
script, no external fetch), rendered with Jinja2 from
:class:`~harness.runbook.result.Validation`.

Verdict at the top, then per node (and for the cluster's API) the Flannel objects left,
the foreign objects destroyed or changed and the Flannel objects removed, a timeline of
steps with durations, outputs and effects, and the pods' sandbox outcomes and events.
"""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from harness.runbook.result import Validation
from harness.runbook.verdict import Verdict

TEMPLATE = "validation.html.j2"


def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("harness.report", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render(validation: Validation) -> str:
    code = int(validation.verdict)
    expectations = [x for s in validation.steps for x in s.expectations]
    longest = max((s.seconds for s in validation.steps), default=0.0) or 1.0
    verdict_class = "pass" if code == 0 else "fail"
    if code & Verdict.ERROR:
        verdict_class = "error"
    return (
        _environment()
        .get_template(TEMPLATE)
        .render(
            v=validation,
            code=code,
            failing=Verdict.decode(code),
            verdict_class=verdict_class,
            totals=validation.totals(),
            expectations_total=len(expectations),
            expectations_failed=sum(not x.held for x in expectations),
            longest=longest,
        )
    )


def write(validation: Validation, path: Path) -> Path:
    path.write_text(render(validation))
    return path
