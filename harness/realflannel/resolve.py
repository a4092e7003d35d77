"""Which implementation runs a Flannel image in the sandbox: ``real`` or ``emulated``.

``--flannel-impl real`` (CLI and pytest option) runs the upstream programs wherever they
are built; ``emulated`` always runs the Python emulation; with no choice (``auto``) a
built version runs for real and any other is emulated, with a one-line notice saying why.
Each image is decided on its own: a manifest whose flanneld is built but whose CNI plugin
is not runs real flanneld with the emulated plugin, and :func:`describe` says so.

The choice travels to the control plane as ``CNISCRUB_FLANNEL_IMPL`` (the kubelet resolves
each container's image with :func:`choose`); the files of a real image are mounted in the
container where the image holds them (``/opt/bin/flanneld``, ``/flannel``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from harness.realflannel.cache import BuildCache
from harness.realflannel.programs import GoProgram, manifest_programs, program_for_image

IMPLS = ("real", "emulated")
IMPL_ENV = "CNISCRUB_FLANNEL_IMPL"
AUTO = "auto"
# sandbox nodes have a tmpfs of their own on /run: a binary cached there is invisible
INVISIBLE_IN_NODES = ("/run",)


@dataclass(frozen=True)
class Choice:
    """How one image runs."""

    image: str
    program: GoProgram | None  # None: not a Flannel image
    impl: str  # "real" | "emulated"
    binary: Path | None = None  # the cached real binary when impl == "real"
    reason: str = ""  # why emulated, when real could have been meant

    @property
    def files(self) -> dict[str, str]:
        """Container path -> host path of the files this image provides for real."""
        if self.impl != "real" or self.program is None or self.binary is None:
            return {}
        return {self.program.image_path: str(self.binary)}


def requested_impl(value: str | None = None) -> str:
    """``real``, ``emulated`` or ``auto`` from an option value or ``$CNISCRUB_FLANNEL_IMPL``."""
    chosen = (value or os.environ.get(IMPL_ENV) or AUTO).strip().lower()
    if chosen not in (*IMPLS, AUTO):
        raise ValueError(f"--flannel-impl must be real or emulated, not {chosen!r}")
    return chosen


def choose(
    image: str, requested: str = AUTO, cache: BuildCache | None = None
) -> Choice:
    """How ``image`` runs under ``requested`` (``real`` | ``emulated`` | ``auto``)."""
    program = program_for_image(image)
    if program is None:
        return Choice(image, None, "emulated", reason="not a versioned Flannel image")
    if requested == "emulated":
        return Choice(image, program, "emulated", reason="--flannel-impl emulated")
    cache = cache or BuildCache()
    binary = cache.built(program)
    if binary is None:
        record = cache.record(program)
        why = record.reason if record and not record.ok else "not built yet"
        return Choice(image, program, "emulated", reason=why)
    if str(binary).startswith(INVISIBLE_IN_NODES):
        reason = f"{binary} is under /run, which sandbox nodes do not share"
        return Choice(image, program, "emulated", reason=reason)
    return Choice(image, program, "real", binary=binary)


def manifest_choices(
    manifest: Path, requested: str = AUTO, cache: BuildCache | None = None
) -> list[Choice]:
    """The choice for each Flannel program a manifest runs (flanneld, CNI plugin)."""
    cache = cache or BuildCache()
    return [
        choose(f"{p.image_repo}:{p.tag}", requested, cache)
        for p in manifest_programs(manifest)
    ]


def flannel_impl(choices: list[Choice]) -> str:
    """The implementation of flanneld among ``choices`` (what ``flannel_impl`` reports)."""
    return _impl_of(choices, "flannel")


def cni_plugin_impl(choices: list[Choice]) -> str:
    return _impl_of(choices, "flannel-cni-plugin")


def _impl_of(choices: list[Choice], repo: str) -> str:
    for choice in choices:
        if choice.program is not None and choice.program.image_repo == repo:
            return choice.impl
    return "emulated"


def describe(choices: list[Choice]) -> str:
    """One line: what runs for real and what is emulated, and why."""
    parts = []
    for c in choices:
        label = c.program.label if c.program else c.image
        parts.append(
            f"real {label}" if c.impl == "real" else f"emulated {label} ({c.reason})"
        )
    return "; ".join(parts)
