"""Run one cleaner inside a node's netns and time it.

``run_in_node`` starts ``nsenter --net=NS -- unshare --mount --propagation slave
-- python -m bench.cleaners.worker``. In that private mount namespace the worker
remounts /sys for the netns (what ``ip netns exec`` does, so sysfs shows the
node's links) and shields the host's CNI dirs (``SHIELD``) with an empty tmpfs
holding a sentinel, so a cleaner that ignores ``--root`` cannot touch the real
ones and is reported ("escaped --root"). It then times only the cleaner itself
(``time.perf_counter``): namespace switch and interpreter start-up are outside
every measurement. It prints one JSON line: cleaner, seconds, ok, note,
commands, seconds per step.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .competitors import CLEANERS
from .oracle import clean_oracle

REPO = Path(__file__).resolve().parents[2]
TIMEOUT = 900
SHIELD = tuple(
    Path(d) for d in ("/etc/cni", "/opt/cni", "/var/lib/cni", "/run/flannel")
)
SENTINEL = ".cniscrub-bench-host-dir"


@dataclass
class RunResult:
    """What the worker reports."""

    cleaner: str
    seconds: float
    ok: bool
    note: str
    commands: int
    steps: dict[str, float] = field(default_factory=dict)


def run_in_node(
    netns: str, cleaner: str, root: Path, journal: Path, size: str = ""
) -> RunResult:
    """Run ``cleaner`` in the netns at path ``netns``; bounded by TIMEOUT."""
    argv = ["nsenter", f"--net={netns}", "--", "unshare", "--mount", "--propagation"]
    argv += ["slave", "--", sys.executable, "-m", "bench.cleaners.worker", cleaner]
    argv += ["--root", str(root), "--journal", str(journal), "--isolate"]
    argv += ["--size", size] if size else []
    env = dict(os.environ, PYTHONPATH=str(REPO))
    with subprocess.Popen(
        argv,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
        env=env,
        start_new_session=True,  # its own process group: killable as a whole
    ) as proc:
        try:
            out, err = proc.communicate(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)  # the worker and the cleaner it runs
            proc.communicate()
            note = f"timed out after {TIMEOUT}s"
            return RunResult(cleaner, float(TIMEOUT), False, note, 0)
    lines = out.strip().splitlines()
    if proc.returncode != 0 or not lines:
        note = f"worker failed rc={proc.returncode}: {err.strip()[-300:]}"
        return RunResult(cleaner, 0.0, False, note, 0)
    return RunResult(**json.loads(lines[-1]))


def isolate() -> list[Path]:
    """Remount /sys for this netns and shield the host's CNI dirs (private mount
    ns only); return the sentinels to check afterwards."""
    cmds = [["umount", "-l", "/sys"], ["mount", "-t", "sysfs", "sysfs", "/sys"]]
    shielded = [d for d in SHIELD if d.is_dir()]
    cmds += [
        ["mount", "-t", "tmpfs", "-o", "size=1m", "bench", str(d)] for d in shielded
    ]
    for argv in cmds:
        subprocess.run(argv, capture_output=True, timeout=30, check=True)
    sentinels = [d / SENTINEL for d in shielded]
    for path in sentinels:
        path.write_text("cniscrub bench: this is the host's dir, not the node's\n")
    return sentinels


def escaped(sentinels: list[Path]) -> list[str]:
    """Shielded host dirs that the cleaner changed."""
    return [
        str(p.parent)
        for p in sentinels
        if not p.exists() or [c.name for c in p.parent.iterdir()] != [SENTINEL]
    ]


def main(argv: list[str] | None = None) -> int:
    """Worker entry point (already inside the node's netns)."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("cleaner", choices=[*sorted(CLEANERS), "oracle"])
    parser.add_argument("--root", type=Path, required=True)
    parser.add_argument("--journal", type=Path, required=True)
    parser.add_argument("--isolate", action="store_true")
    parser.add_argument("--size", default="", help="node size (the oracle needs it)")
    args = parser.parse_args(argv)
    sentinels = isolate() if args.isolate else []
    args.journal.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    if args.cleaner == "oracle":
        outcome = clean_oracle(args.root, args.journal, args.size)
    else:
        outcome = CLEANERS[args.cleaner](args.root, args.journal)
    seconds = time.perf_counter() - start
    if bad := escaped(sentinels):
        outcome.note = f"{outcome.note} escaped --root: {', '.join(bad)}".strip()
    result = RunResult(
        args.cleaner, seconds, outcome.ok, outcome.note, outcome.commands, outcome.steps
    )
    print(json.dumps(asdict(result)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
