"""``cniscrub-lab images build|list``: real Flannel binaries for the sandbox.

``build`` runs ``go install`` for flanneld and the CNI plugin of each chosen manifest
(``--flannel-version V``, repeatable, or ``all``; or ``--manifest FILE``) into the cache
(:mod:`harness.realflannel.cache`), with progress on stderr; a version that cannot be
built says exactly why and the sandbox keeps emulating it. ``list`` shows what the cache
holds. Exit code: 0 when every program built, 2 when some could not (that is not an
error of the command), 1 on bad input.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from harness import matrix
from harness.realflannel.build import Progress, build_all
from harness.realflannel.cache import BuildCache, BuildRecord
from harness.realflannel.programs import GoProgram, manifest_programs

EXIT_SOME_NOT_BUILT = 2


class BuildDisplay:
    """Progress of builds on stderr: a live line on a terminal, else one line per
    phase (CI logs stay short)."""

    def __init__(self, stream: Any = None) -> None:
        self.stream = stream or sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self._live: Any = None
        self._task: Any = None
        self._phase: tuple[str, str] = ("", "")

    def __enter__(self) -> BuildDisplay:
        if self.tty:
            from rich.console import Console
            from rich.progress import Progress as RichProgress
            from rich.progress import SpinnerColumn, TextColumn, TimeElapsedColumn

            self._live = RichProgress(
                SpinnerColumn(),
                TextColumn("{task.description}"),
                TimeElapsedColumn(),
                console=Console(file=self.stream),
                transient=True,
            )
            self._live.__enter__()
            self._task = self._live.add_task("", total=None)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._live is not None:
            self._live.__exit__(None, None, None)

    def __call__(self, p: Progress) -> None:
        what = {
            "wait": "waiting for another build",
            "download": f"downloading modules ({p.count}: {p.text})",
            "compile": f"compiling ({p.count} packages: {p.text})",
        }.get(p.phase)
        if what is not None and self._live is not None:
            self._live.update(self._task, description=f"{p.program.label}: {what}")
            return
        key = (p.program.target, p.phase)
        if what is not None and key != self._phase:
            self._phase = key
            print(f" • {p.program.label}: {what.split(' (')[0]} ...", file=self.stream)
            self.stream.flush()


def summary_line(program: GoProgram, record: BuildRecord, cache: BuildCache) -> str:
    if record.ok:
        took = f", built in {record.seconds:.0f}s" if record.seconds else ""
        return f" ✓ {program.label}: {cache.binary(program)}{took}"
    return f" ✗ {program.label} not built: {record.reason}"


def _manifests(args: argparse.Namespace) -> list[Path]:
    if args.manifest:
        return [Path(m) for m in args.manifest]
    versions: list[str] = []
    for given in args.flannel_version or [matrix.DEFAULT_FLANNEL_VERSION]:
        expanded = matrix.flannel_versions() if given == "all" else (given,)
        versions += [v for v in expanded if v not in versions]
    return [matrix.manifest_path(v) for v in versions]


def programs_of(manifests: list[Path]) -> list[GoProgram]:
    """Every distinct program of the manifests, in manifest order."""
    seen: dict[str, GoProgram] = {}
    for manifest in manifests:
        for program in manifest_programs(manifest):
            seen.setdefault(program.target, program)
    return list(seen.values())


def record_json(program: GoProgram, record: BuildRecord, cache: BuildCache) -> dict:
    return {
        "program": program.label,
        "target": program.target,
        "built": record.ok,
        "binary": str(cache.binary(program)) if record.ok else None,
        "reason": record.reason or None,
        "seconds": record.seconds,
        "go": record.go_version or None,
    }


def cmd_build(args: argparse.Namespace) -> int:
    try:
        programs = programs_of(_manifests(args))
    except (FileNotFoundError, ValueError) as exc:
        print(f"cniscrub-lab images build: {exc}", file=sys.stderr)
        return 1
    cache = BuildCache()
    with BuildDisplay() as display:
        records = build_all(programs, cache, display, args.jobs, args.retry_after)
    for program, record in zip(programs, records, strict=True):
        print(summary_line(program, record, cache), file=sys.stderr)
    if args.json:
        rows = [
            record_json(p, r, cache) for p, r in zip(programs, records, strict=True)
        ]
        print(json.dumps({"cache": str(cache.root), "programs": rows}, indent=2))
    return 0 if all(r.ok for r in records) else EXIT_SOME_NOT_BUILT


def cmd_list(args: argparse.Namespace) -> int:
    cache = BuildCache()
    programs = programs_of([matrix.manifest_path(v) for v in matrix.flannel_versions()])
    rows = []
    for program in programs:
        record = cache.record(program) or BuildRecord(program.target, False, "")
        row = record_json(program, record, cache)
        row["built"] = cache.built(program) is not None
        row["reason"] = row["reason"] or (None if row["built"] else "not built yet")
        rows.append(row)
    if args.json:
        print(json.dumps({"cache": str(cache.root), "programs": rows}, indent=2))
        return 0
    print(f"cache {cache.root}")
    for row in rows:
        state = "built" if row["built"] else f"not built: {row['reason']}"
        print(f"  {row['program']:<36} {state}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    images = sub.add_parser(
        "images",
        help="build the real flanneld / flannel CNI plugin of a manifest (Go)",
        description="Real Flannel binaries for the sandbox, built from their Go "
        "modules into a cache outside the repository.",
    )
    isub = images.add_subparsers(dest="images_command", required=True, metavar="ACTION")
    b = isub.add_parser(
        "build",
        help="go install flanneld and the CNI plugin (cached; built once)",
        description="Build flanneld (github.com/flannel-io/flannel@<tag>) and the CNI "
        "plugin each manifest ships (github.com/flannel-io/cni-plugin@<tag>).",
    )
    b.add_argument(
        "--flannel-version",
        action="append",
        metavar="V",
        choices=[*matrix.flannel_versions(), "all"],
        help=f"a fixture manifest's version, or all (default "
        f"{matrix.DEFAULT_FLANNEL_VERSION}; repeatable)",
    )
    b.add_argument("--manifest", action="append", help="build a manifest file's images")
    b.add_argument("--jobs", type=int, help="go build -p N (default: Go's)")
    b.add_argument(
        "--retry-after",
        type=float,
        default=None,
        metavar="SECONDS",
        help="skip programs whose build failed less than SECONDS ago (default: try "
        "again; bootstrap uses a day: a refused module stays refused)",
    )
    b.add_argument("--json", action="store_true", help="one JSON document on stdout")
    b.set_defaults(func=cmd_build)
    ls = isub.add_parser("list", help="what the cache holds (built, or why not)")
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(func=cmd_list)
