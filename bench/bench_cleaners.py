"""Compare node cleaners on identical generated Flannel residue (issue 5, Performance).

Usage: python bench/bench_cleaners.py [--sizes small,medium,large]
       [--cleaners cniscrub,k3s-style,runbook] [--json out.json]

For each size and cleaner: build a fresh identical node in its own network
namespace, time the cleaner inside it, count Flannel objects left and foreign
objects lost against the manifest, tear the node down. ``cniscrub plan`` is
timed on the fresh node before ``cniscrub apply`` (and checked read-only).
Needs root. Progress goes to stderr, the table to stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import FrameType
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.cleaners import census, nodestate
from bench.cleaners.competitors import cniscrub_binary
from bench.cleaners.spec import SIZES
from bench.cleaners.worker import run_in_node

SETTLE = 0.5  # let the kernel finish freeing the previous node's namespaces


def log(msg: str) -> None:
    """Progress line on stderr."""
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def cniscrub_unavailable() -> str | None:
    """Why cniscrub cannot be benchmarked, or None."""
    exe = cniscrub_binary()
    if exe is None:
        return "not available: cniscrub not installed"
    try:
        proc = subprocess.run(
            [exe, "--help"], capture_output=True, text=True, timeout=30
        )
    except subprocess.TimeoutExpired:
        return "not available: `cniscrub --help` timed out"
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["?"])[-1]
        return f"not available: `cniscrub --help` exit {proc.returncode}: {last[:120]}"
    return None


def host_state() -> tuple[str, int]:
    """(`ip netns list`, number of `findmnt` lines) of the host."""
    ns = subprocess.run(
        ["ip", "netns", "list"], capture_output=True, text=True, timeout=30
    )
    mnt = subprocess.run(["findmnt"], capture_output=True, text=True, timeout=30)
    return ns.stdout, len(mnt.stdout.splitlines())


def run_one(size: str, cleaner: str) -> dict[str, Any]:
    """Build a node, run ``cleaner`` on it, census, tear down."""
    row: dict[str, Any] = {"size": size, "cleaner": cleaner}
    with nodestate.built_node(SIZES[size]) as node:
        spec = node.spec
        row |= {"build_s": node.build_seconds, "flannel_total": spec.total("flannel")}
        row["foreign_total"] = spec.total("foreign")
        secs = node.build_seconds
        log(f"{size}: built {node.label} in {secs:.2f}s, running {cleaner}")
        if cleaner == "cniscrub":
            plan = run_in_node(node.netns, "cniscrub-plan", node.root, node.journal)
            row["plan_s"] = plan.seconds if plan.ok else None
            row["plan_note"] = plan.note
            if plan.ok:
                nodestate.verify(node)  # plan must not have changed anything
        time.sleep(SETTLE)
        res = run_in_node(node.netns, cleaner, node.root, node.journal)
        row |= {"seconds": res.seconds, "ok": res.ok, "note": res.note}
        row["commands"] = res.commands
        if res.ok:
            seen = census.observe(node.netns, node.root)
            c = census.compare(spec.flannel, spec.foreign, seen)
            row |= {"flannel_left": c.left, "foreign_lost": c.lost}
            row |= {"left_by_kind": c.flannel_left, "lost_by_kind": c.foreign_lost}
    log(f"{size}: {cleaner}: {res.seconds:.3f}s ok={res.ok} {res.note}")
    return row


def ratios(rows: list[dict[str, Any]], size: str) -> list[str]:
    """The issue's two target ratios for ``size``."""
    by = {r["cleaner"]: r for r in rows if r["size"] == size and r.get("ok")}
    out = []
    cs, k3s = by.get("cniscrub"), by.get("k3s-style")
    if cs and k3s:
        ratio = cs["seconds"] / k3s["seconds"]
        out.append(f"{size}: cniscrub apply / k3s-style = {ratio:.2f}x")
    else:
        out.append(f"{size}: cniscrub apply / k3s-style = n/a")
    if cs and cs.get("plan_s"):
        out.append(f"{size}: plan / apply = {cs['plan_s'] / cs['seconds']:.2f}")
    return out


_ROW = "{:7} {:10} {:>9} {:>14} {:>14}  {}"


def table(rows: list[dict[str, Any]]) -> str:
    """The result table."""
    cols = ("size", "cleaner", "seconds", "flannel left", "foreign lost", "note")
    head = _ROW.format(*cols)
    lines = [head, "-" * len(head)]
    for r in rows:
        if r.get("ok"):
            left = f"{r['flannel_left']}/{r['flannel_total']}"
            lost = f"{r['foreign_lost']}/{r['foreign_total']}"
            secs = f"{r['seconds']:.3f}"
        else:
            left = lost = secs = "-"
        lines.append(_ROW.format(r["size"], r["cleaner"], secs, left, lost, r["note"]))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="small,medium,large")
    parser.add_argument("--cleaners", default="cniscrub,k3s-style,runbook")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    sizes = [s for s in args.sizes.split(",") if s]
    cleaners = [c for c in args.cleaners.split(",") if c]
    if unknown := [s for s in sizes if s not in SIZES]:
        parser.error(f"unknown sizes {unknown}")

    main_pid = os.getpid()

    def on_term(signum: int, frame: FrameType | None) -> None:
        if os.getpid() != main_pid:  # a forked pyroute2 helper: just go
            os._exit(128 + signum)
        raise SystemExit(128 + signum)  # unwinds through every teardown

    signal.signal(signal.SIGTERM, on_term)
    before = host_state()
    unavailable = cniscrub_unavailable() if "cniscrub" in cleaners else None
    rows: list[dict[str, Any]] = []
    for size in sizes:
        for cleaner in cleaners:
            if cleaner == "cniscrub" and unavailable:
                log(f"{size}: cniscrub skipped: {unavailable}")
                rows.append(
                    {"size": size, "cleaner": cleaner, "ok": False, "note": unavailable}
                )
                continue
            rows.append(run_one(size, cleaner))
    print(table(rows))
    builds = {r["size"]: r["build_s"] for r in rows if "build_s" in r}
    print("build time: " + ", ".join(f"{s} {b:.2f}s" for s, b in builds.items()))
    for size in sizes:
        print("\n".join(ratios(rows, size)))
    after = host_state()
    if after != before:
        print(
            f"WARNING host changed: netns/mounts {before} -> {after}", file=sys.stderr
        )
    if args.json:
        args.json.write_text(
            json.dumps({"rows": rows, "host_unchanged": after == before}, indent=2)
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
