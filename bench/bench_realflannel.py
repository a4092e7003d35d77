"""Benchmark of real Flannel in the sandbox (issue 14). Prints tables; asserts nothing.

* build time of one version (the first fixture version whose flanneld builds here):
  from a warm module cache (GOMODCACHE kept, a fresh GOCACHE: every package compiled),
  and fully warm (both caches kept: what a second ``images build`` costs when the
  binary itself is gone);
* a 3-node cluster with Flannel installed and 6 pods Running, with the real flanneld
  and with the emulated one (same version, same shape), and their ratio.

    python bench/bench_realflannel.py [--version V]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from bench_flannel import flannel_and_pods

from harness.matrix import flannel_versions, manifest_path
from harness.providers import make_provider
from harness.realflannel.build import build
from harness.realflannel.cache import BuildCache
from harness.realflannel.programs import GoProgram, flanneld
from harness.realflannel.resolve import manifest_choices


class _ScratchCache(BuildCache):
    """A throwaway cache root that shares the real module cache (and, when asked,
    the real build cache)."""

    def __init__(self, root: Path, shared: BuildCache, warm_build: bool) -> None:
        super().__init__(root)
        self.shared, self.warm_build = shared, warm_build

    def go_dirs(self) -> dict[str, str]:
        dirs = self.shared.go_dirs()
        if not self.warm_build:
            dirs["GOCACHE"] = str(self.root / "gocache")
        return dirs


def built_version() -> str | None:
    for version in flannel_versions():
        choices = manifest_choices(manifest_path(version), "real")
        if any(c.impl == "real" and c.program for c in choices):
            return version
    return None


def build_seconds(program: GoProgram, warm_build: bool) -> tuple[float, str]:
    with tempfile.TemporaryDirectory(prefix="bench-build-") as tmp:
        cache = _ScratchCache(Path(tmp), BuildCache(), warm_build)
        record = build(program, cache)
        return record.seconds, record.reason


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--version", choices=flannel_versions())
    args = parser.parse_args()
    version = args.version or built_version()
    if version is None:
        print(
            "no Flannel version builds here (cniscrub-lab images list): nothing to time"
        )
        return 0
    program = flanneld(version)
    cold_build, why = build_seconds(program, warm_build=False)
    warm_build, _ = build_seconds(program, warm_build=True)
    print(f"\nbuilding {program.label} (go install, niced)")
    print(f"{'cache state':<52} {'seconds':>8}")
    print(f"{'warm module cache, cold build cache':<52} {cold_build:>8.1f}")
    print(f"{'warm module and build caches':<52} {warm_build:>8.1f}")
    if why:
        print(f"  (the build failed: {why})")
    provider = make_provider("sandbox")
    rows = {}
    for impl in ("real", "emulated"):
        rows[impl] = flannel_and_pods(provider, version, {"flannel_impl": impl})
        print(f"  measured {impl} Flannel", file=sys.stderr)
    print(f"\n3-node cluster + Flannel {version} + 6 pods Running")
    print(f"{'step':<44} {'real':>8} {'emulated':>9} {'ratio':>6}")
    for step in ("up", "flannel", "pods", "total"):
        real, emu = rows["real"][step], rows["emulated"][step]
        print(f"{step:<44} {real:>8.2f} {emu:>9.2f} {real / emu:>6.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
