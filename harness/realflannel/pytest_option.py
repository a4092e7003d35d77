"""``--flannel-impl real|emulated`` for the pytest plugin, and the session header line
that says which Flannel programs run for real (built) and which are emulated, and why.

The choice reaches every cluster the session makes through ``$CNISCRUB_FLANNEL_IMPL``
(the control plane's kubelets read it); a test can still ask for one implementation with
``cluster_factory(..., extra={"flannel_impl": "real"})``.
"""

from __future__ import annotations

import os
from typing import Any

import pytest

from harness import matrix
from harness.realflannel import resolve


def addoption(group: Any) -> None:
    group.addoption(
        "--flannel-impl",
        choices=resolve.IMPLS,
        default=None,
        help="run the upstream flanneld / CNI plugin where built (real) or always the "
        "emulation; default: real where built, else emulated",
    )


def configure(config: pytest.Config) -> None:
    chosen = config.getoption("flannel_impl", default=None)
    if chosen:
        os.environ[resolve.IMPL_ENV] = chosen


def header(config: pytest.Config) -> str:
    """``flannel: real flanneld v0.26.7; emulated …`` for the default version's
    manifest and every other fixture version that runs for real."""
    wanted = resolve.requested_impl(config.getoption("flannel_impl", default=None))
    if wanted == "emulated":
        return "flannel: emulated (--flannel-impl emulated)"
    real = []
    for version in matrix.flannel_versions():
        choices = resolve.manifest_choices(matrix.manifest_path(version), wanted)
        real += [c.program.label for c in choices if c.impl == "real" and c.program]
    default = resolve.manifest_choices(
        matrix.manifest_path(matrix.DEFAULT_FLANNEL_VERSION), wanted
    )
    built = ", ".join(real) or "none (cniscrub-lab images build)"
    return f"flannel: real where built ({built}); default version: " + (
        resolve.describe(default)
    )
