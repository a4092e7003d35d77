"""Build real Flannel programs with ``go install module@tag`` into the cache.

One build per program at a time (a file lock), into a temporary ``GOBIN`` then renamed
into place, so a half-written binary is never used. Go runs niced (the machines' CPUs are
shared) with its module and build caches under the cache root, ``GOTOOLCHAIN=local`` (never
download a toolchain) and ``GOFLAGS=-modcacherw`` (the cache can be deleted with ``rm``).

Every outcome is recorded (:class:`~.cache.BuildRecord`): a missing toolchain or C
compiler, the module proxy refusing a module version, a compile error: each is one
line that says exactly why, never an exception to the caller.

>>> from harness.realflannel.programs import flanneld
>>> go_argv("go", flanneld("v0.27.3"))[:3]
['go', 'install', '-v']
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from harness.realflannel.cache import BuildCache, BuildRecord
from harness.realflannel.programs import GoProgram

GO_CANDIDATES = ("/usr/local/go/bin/go", "/usr/lib/go/bin/go")
BUILD_TIMEOUT = 1800.0
NICE = 10
_REFUSED = re.compile(
    r"reading https?://[^ ]+?/(?P<module>[^ ]+)/@v/(?P<version>[^ ]+?)\."
    r"(?:info|mod|zip): (?P<status>\d{3} [^\n]*)"
)


@dataclass(frozen=True)
class Progress:
    """One step of a build, for a progress display."""

    program: GoProgram
    phase: str  # "download" | "compile" | "link" | "done" | "failed" | "wait"
    count: int  # modules downloaded or packages compiled so far
    text: str  # the module or package just handled


ProgressFn = Callable[[Progress], None]


def find_go() -> str | None:
    """The Go toolchain: ``go`` on PATH, ``$GOROOT/bin/go``, or a usual install dir."""
    found = shutil.which("go")
    if found:
        return found
    goroot = os.environ.get("GOROOT")
    candidates = ([f"{goroot}/bin/go"] if goroot else []) + list(GO_CANDIDATES)
    return next((c for c in candidates if os.access(c, os.X_OK)), None)


def find_cc() -> str | None:
    """The C compiler cgo would use (``$CC``, else ``gcc``)."""
    return shutil.which(os.environ.get("CC") or "gcc")


def go_argv(go: str, program: GoProgram, jobs: int | None = None) -> list[str]:
    """``go install -v [-p N] -ldflags '<upstream -X flags>' module@tag``."""
    argv = [go, "install", "-v"]
    if jobs:
        argv += ["-p", str(jobs)]
    return [*argv, "-ldflags", program.ldflags, program.target]


def go_env(program: GoProgram, cache: BuildCache, gobin: Path) -> dict[str, str]:
    """The environment of one build: the caller's, with the build's own Go settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLANNELD_")}
    env.update(cache.go_dirs())
    env.update(
        GOBIN=str(gobin),
        CGO_ENABLED="1" if program.cgo else "0",
        GOFLAGS="-modcacherw -buildvcs=false",
        GOTOOLCHAIN="local",
        GO111MODULE="on",
        GOWORK="off",
    )
    return env


def failure_reason(program: GoProgram, output: str, rc: int) -> str:
    """One line saying why ``go install`` failed, from its output."""
    m = _REFUSED.search(output)
    if m:
        detail = ""
        after = output[m.end() :].lstrip().splitlines()
        if after and after[0].strip().startswith("server response:"):
            detail = " (" + after[0].strip().removeprefix("server response:").strip()
            detail += ")"
        what = f"{m['module']}@{m['version']}"
        needed = (
            "" if m["module"] == program.module else f", needed by {program.target}"
        )
        return (
            f"the Go module proxy refused {what}{needed}: {m['status'].strip()}{detail}"
        )
    lines = [
        ln
        for ln in output.splitlines()
        if ln.strip() and not ln.startswith("go: downloading")
    ]
    last = lines[-1].strip() if lines else f"exit status {rc}"
    return f"go install {program.target} failed: {last}"


def preflight(program: GoProgram) -> tuple[str | None, str]:
    """``(go, "")`` when the build can start, else ``(None, reason)``."""
    go = find_go()
    if go is None:
        return None, (
            "no Go toolchain found (looked for `go` on PATH, $GOROOT/bin and "
            f"{', '.join(GO_CANDIDATES)})"
        )
    if program.cgo and find_cc() is None:
        return None, (
            f"{program.label} needs cgo (its UDP backend imports C, real-flannel.md "
            "§1a) and no C compiler was found (install gcc)"
        )
    return go, ""


def go_version(go: str) -> str:
    try:
        out = subprocess.run(
            [go, "env", "GOVERSION"], capture_output=True, text=True, timeout=30
        )
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return out.stdout.strip()


def build(
    program: GoProgram,
    cache: BuildCache | None = None,
    progress: ProgressFn | None = None,
    jobs: int | None = None,
) -> BuildRecord:
    """Build ``program`` into the cache (unless another process just did) and record
    the outcome. Never raises for a failed build."""
    cache = cache or BuildCache()
    report = progress or (lambda _p: None)
    go, reason = preflight(program)
    if go is None:
        record = BuildRecord(program.target, False, reason, finished=time.time())
        cache.save(program, record)
        report(Progress(program, "failed", 0, reason))
        return record
    waiting = Progress(program, "wait", 0, "waiting for the build lock")
    with cache.locked(program, lambda: report(waiting)):
        before = cache.record(program)
        if before is not None and before.ok and cache.built(program):
            report(Progress(program, "done", 0, "already built"))
            return before
        record = _run_go(go, program, cache, report, jobs)
        cache.save(program, record)
    report(Progress(program, "done" if record.ok else "failed", 0, record.reason))
    return record


def _run_go(
    go: str,
    program: GoProgram,
    cache: BuildCache,
    report: ProgressFn,
    jobs: int | None,
) -> BuildRecord:
    directory = cache.dir(program)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix=".gobin-", dir=directory) as gobin:
        rc, output = _stream(
            go_argv(go, program, jobs),
            go_env(program, cache, Path(gobin)),
            lambda phase, n, text: report(Progress(program, phase, n, text)),
        )
        seconds = round(time.monotonic() - started, 1)
        produced = Path(gobin) / program.go_name
        if rc != 0 or not produced.exists():
            return BuildRecord(
                program.target,
                False,
                failure_reason(program, output, rc),
                output=output[-4000:],
                go_version=go_version(go),
                seconds=seconds,
                finished=time.time(),
            )
        os.replace(produced, cache.binary(program))
    return BuildRecord(
        program.target,
        True,
        go_version=go_version(go),
        seconds=seconds,
        finished=time.time(),
    )


def _stream(
    argv: list[str], env: dict[str, str], on_line: Callable[[str, int, str], None]
) -> tuple[int, str]:
    """Run go, reporting downloads and compiled packages as they come."""
    counts = {"download": 0, "compile": 0}
    lines: list[str] = []
    with tempfile.TemporaryDirectory(prefix="cniscrub-go-") as cwd:
        nice = shutil.which("nice")
        proc = subprocess.Popen(
            [nice, "-n", str(NICE), *argv] if nice else argv,
            env=env,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        assert proc.stdout is not None
        timer = threading.Timer(BUILD_TIMEOUT, proc.kill)
        timer.start()
        try:
            for line in proc.stdout:
                lines.append(line.rstrip("\n"))
                text = line.strip()
                if text.startswith("go: downloading"):
                    phase, text = "download", text.removeprefix("go: downloading ")
                elif " " in text:  # a message, not a package path
                    continue
                else:
                    phase = "compile"
                counts[phase] += 1
                on_line(phase, counts[phase], text)
            rc = proc.wait()
        finally:
            timer.cancel()
    if rc < 0:
        lines.append(f"go was killed (signal {-rc}; time limit {BUILD_TIMEOUT:.0f}s)")
    return rc, "\n".join(lines)


def needs_build(
    program: GoProgram, cache: BuildCache, retry_failed_after: float | None
) -> bool:
    """Whether to try ``program`` now: not built, and (with ``retry_failed_after``) no
    failure recorded within that many seconds (a refused module stays refused)."""
    if cache.built(program) is not None:
        return False
    record = cache.record(program)
    if record is None or record.ok or retry_failed_after is None:
        return True
    return time.time() - record.finished >= retry_failed_after


def build_all(
    programs: list[GoProgram],
    cache: BuildCache | None = None,
    progress: ProgressFn | None = None,
    jobs: int | None = None,
    retry_failed_after: float | None = None,
) -> list[BuildRecord]:
    """Build each program that :func:`needs_build`; the record of every program."""
    cache = cache or BuildCache()
    records = []
    for program in programs:
        if needs_build(program, cache, retry_failed_after):
            records.append(build(program, cache, progress, jobs))
        else:
            record = cache.record(program)
            assert record is not None
            records.append(record)
    return records
