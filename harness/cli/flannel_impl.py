"""``--flannel-impl real|emulated`` for ``cniscrub-lab up`` and ``reproduce``.

Without the flag a built version runs for real and anything else is emulated, with a
one-line notice saying which and why. ``real`` first builds the manifest's programs that
are not built yet (progress on stderr; a failure recorded less than a day ago is not tried
again), then runs what could be built.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from harness.realflannel import resolve
from harness.realflannel.build import build_all
from harness.realflannel.programs import manifest_programs

RETRY_FAILED_AFTER = 86400.0  # a refused module stays refused; try again a day later


def add_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--flannel-impl",
        choices=resolve.IMPLS,
        default=None,
        help="run the upstream flanneld / CNI plugin (real: built from their Go "
        "modules, see `cniscrub-lab images`) or the emulation; default: real where "
        "built, else emulated",
    )


def extra(args: argparse.Namespace) -> dict[str, str]:
    """The ``ClusterSpec.extra`` that carries the choice to the control plane."""
    return {"flannel_impl": args.flannel_impl} if args.flannel_impl else {}


def prepare(manifest: Path, requested: str | None) -> list[resolve.Choice]:
    """Build what ``real`` needs, then the choice per program, with a notice line."""
    wanted = resolve.requested_impl(requested)
    if wanted == "real":
        from harness.cli.images_cmd import BuildDisplay

        with BuildDisplay() as display:
            build_all(
                manifest_programs(manifest),
                progress=display,
                retry_failed_after=RETRY_FAILED_AFTER,
            )
    choices = resolve.manifest_choices(manifest, wanted)
    if wanted != "emulated":
        print(f" • Flannel: {resolve.describe(choices)}", file=sys.stderr, flush=True)
    return choices


def as_json(choices: list[resolve.Choice]) -> dict[str, str]:
    """What ``--json`` records about the implementation that ran."""
    return {
        "flannel_impl": resolve.flannel_impl(choices),
        "cni_plugin_impl": resolve.cni_plugin_impl(choices),
        "flannel_impl_detail": resolve.describe(choices),
    }
