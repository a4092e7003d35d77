"""Parametrise tests over the scenario matrix (Flannel versions x runtimes).

A test (or a fixture it uses) that takes ``flannel_version`` or ``runtime`` runs once per
value of its matrix: ``@pytest.mark.matrix(flannel_version=[...], runtime=[...])`` when
it declares one, else every version with a manifest and every runtime
(:mod:`harness.matrix`). ``--flannel-version`` / ``--runtime`` restrict every matrix to
the given values; a test left with none is skipped and says why. The parameters are
module-scoped, so a module-scoped cluster fixture can depend on them (pytest then groups
the tests by value: one cluster per version, whatever the test order).
"""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from harness import matrix

# axis (fixture name = option dest) -> its default values
AXES = {
    "flannel_version": matrix.flannel_versions,
    "runtime": lambda: matrix.RUNTIMES,
}


def selected(config: pytest.Config, axis: str) -> list[str] | None:
    """The values given on the command line for an axis, canonical, or None."""
    given = config.getoption(axis, default=None)
    if not given:
        return None
    return [matrix.runtime_name(v) for v in given] if axis == "runtime" else given


def values_for(
    declared: Sequence[str] | None, default: Sequence[str], chosen: list[str] | None
) -> list[str]:
    """The matrix of one axis: declared (or default), restricted to what was chosen.

    >>> values_for(None, ["a", "b", "c"], ["b"])
    ['b']
    >>> values_for(["a", "c"], ["a", "b", "c"], None)
    ['a', 'c']
    """
    base = list(declared) if declared is not None else list(default)
    return [v for v in base if chosen is None or v in chosen]


def parametrize_matrix(metafunc: pytest.Metafunc) -> None:
    marker = metafunc.definition.get_closest_marker("matrix")
    declared = dict(marker.kwargs) if marker else {}
    explicit = {
        name
        for m in metafunc.definition.iter_markers("parametrize")
        for name in _argnames(m.args[0])
    }
    for axis, default in AXES.items():
        if axis not in metafunc.fixturenames or axis in explicit:
            continue
        chosen = selected(metafunc.config, axis)
        values = values_for(declared.get(axis), default(), chosen)
        if values:
            metafunc.parametrize(axis, values, scope="module")
            continue
        why = (
            f"--{axis.replace('_', '-')} {' '.join(chosen or [])} is outside this "
            f"test's matrix ({', '.join(declared.get(axis) or default())})"
        )
        skip = pytest.param(None, marks=pytest.mark.skip(reason=why), id="excluded")
        metafunc.parametrize(axis, [skip], scope="module")


def _argnames(arg: str | Sequence[str]) -> list[str]:
    if isinstance(arg, str):
        return [a.strip() for a in arg.split(",")]
    return list(arg)
