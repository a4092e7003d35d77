"""Compare node cleaners on identical generated Flannel residue (issue 5, Performance).

Usage: python bench/bench_cleaners.py [--sizes small,medium,large]
       [--cleaners cniscrub,k3s-style,runbook[,oracle,noop]] [--repeat N]
       [--json out.json]

For each size and cleaner: build a fresh identical node in its own network
namespace, time the cleaner inside it, count Flannel objects left and foreign
objects lost against the manifest, tear the node down. ``cniscrub plan`` is
timed on the fresh node before ``cniscrub apply`` (and checked read-only).
With ``--repeat N`` the cleaners run interleaved N times and the median time is
reported. ``oracle`` (exact batched deletion told the manifest, see
cleaners/oracle.py) is an optional reference floor; ``noop`` a census baseline.
"flannel left" and "foreign lost" count objects of every kind (link, address,
route, neighbour, FDB entry, iptables chain and rule, file or dir; identities in
cleaners/spec.py) as left/total; ``--json`` has them per kind and per step.
Needs root. Progress goes to stderr, the table to stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
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

SETTLE = 0.5  # at least this long before each timed run, then until the CPUs idle:
QUIET_IDLE = 0.9  # the previous node's teardown (deferred netdev/netns freeing, RCU)
QUIET_WINDOW = 0.2  # runs in kernel workers after the cleaner returned; whichever
QUIET_LIMIT = 15.0  # cleaner ran next would otherwise pay for it
TARGET_VS_K3S = 0.35  # issue 5: cniscrub apply / k3s-style on the largest node
TARGET_PLAN = 0.25  # issue 5: plan / apply
Row = dict[str, Any]


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


def _cpu_times() -> tuple[int, int]:
    """(idle incl. iowait, total) jiffies of all CPUs from /proc/stat."""
    with open("/proc/stat", encoding="ascii") as fh:
        values = [int(v) for v in fh.readline().split()[1:]]
    return values[3] + values[4], sum(values[:8])


def wait_quiet() -> float:
    """Sleep SETTLE, then until one QUIET_WINDOW shows the CPUs at least QUIET_IDLE
    idle (bounded by QUIET_LIMIT); return the seconds waited."""
    start = time.monotonic()
    time.sleep(SETTLE)
    while time.monotonic() - start < QUIET_LIMIT:
        idle0, total0 = _cpu_times()
        time.sleep(QUIET_WINDOW)
        idle1, total1 = _cpu_times()
        if total1 > total0 and (idle1 - idle0) / (total1 - total0) >= QUIET_IDLE:
            break
    return round(time.monotonic() - start, 2)


def host_state() -> tuple[str, int]:
    """(`ip netns list`, number of `findmnt` lines) of the host."""
    argv = ["ip", "netns", "list"]
    ns = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    mnt = subprocess.run(["findmnt"], capture_output=True, text=True, timeout=30)
    return ns.stdout, len(mnt.stdout.splitlines())


def run_one(size: str, cleaner: str) -> Row:
    """Build a node, run ``cleaner`` on it, census, tear down."""
    row: Row = {"size": size, "cleaner": cleaner}
    with nodestate.built_node(SIZES[size]) as node:
        spec = node.spec
        row |= {"build_s": node.build_seconds, "flannel_total": spec.total("flannel")}
        row["foreign_total"] = spec.total("foreign")
        log(f"{size}: built in {node.build_seconds:.2f}s, running {cleaner}")
        if cleaner == "cniscrub":
            wait_quiet()
            plan = run_in_node(node.netns, "cniscrub-plan", node.root, node.journal)
            row |= {"plan_s": plan.seconds if plan.ok else None, "plan_note": plan.note}
            floor = run_in_node(node.netns, "netlink-floor", node.root, node.journal)
            row["floor_s"] = floor.seconds if floor.ok else None
            if plan.ok:
                nodestate.verify(node)  # plan must not have changed anything
        os.sync()  # on a real node the residue was written long ago
        row["settle_s"] = wait_quiet()
        res = run_in_node(node.netns, cleaner, node.root, node.journal, size)
        note = res.note if row.get("plan_s") or cleaner != "cniscrub" else "plan failed"
        row |= {"seconds": res.seconds, "ok": res.ok, "note": note}
        row |= {"commands": res.commands, "steps": res.steps}
        if res.ok:
            seen = census.observe(node.netns, node.root)
            c = census.compare(spec.flannel, spec.foreign, seen)
            row |= {"flannel_left": c.left, "foreign_lost": c.lost}
            row |= {"left_by_kind": c.flannel_left, "lost_by_kind": c.foreign_lost}
    log(f"{size}: {cleaner}: {res.seconds:.3f}s ok={res.ok} {res.note}")
    return row


def aggregate(runs: list[Row]) -> Row:
    """One row from repeated runs: median times; census must not vary."""
    ok = [r for r in runs if r.get("ok")]
    if len(ok) < len(runs):
        return next(r for r in runs if not r.get("ok")) | {"runs": len(runs)}
    row = dict(ok[0]) | {"runs": len(ok), "all_seconds": [r["seconds"] for r in ok]}
    for key in ("seconds", "build_s", "plan_s", "floor_s"):
        values = [r[key] for r in ok if r.get(key) is not None]
        row[key] = statistics.median(values) if values else None
    labels = {label for r in ok for label in r["steps"]}
    row["steps"] = {
        k: statistics.median(r["steps"].get(k, 0.0) for r in ok) for k in labels
    }
    if len({(r["flannel_left"], r["foreign_lost"]) for r in ok}) > 1:
        row["note"] = (row["note"] + " census varied between runs").strip()
    return row


def targets(rows: list[Row], size: str) -> list[str]:
    """The issue's two ratios for ``size`` (its targets are for the largest node)."""
    by = {r["cleaner"]: r for r in rows if r["size"] == size and r.get("ok")}
    cs, k3s = by.get("cniscrub"), by.get("k3s-style")
    if not (cs and k3s):
        return [
            f"{size}: cniscrub apply / k3s-style = n/a (cniscrub or k3s row missing)"
        ]
    ratio = cs["seconds"] / k3s["seconds"]
    verdict = ratio <= TARGET_VS_K3S and cs["foreign_lost"] == 0
    out = [
        f"{size}: cniscrub apply / k3s-style = {ratio:.2f}x (target <= {TARGET_VS_K3S}x"
        f" with 0 foreign lost: {'met' if verdict else 'NOT met'})"
    ]
    if cs.get("plan_s"):
        plan = cs["plan_s"] / cs["seconds"]
        met = "met" if plan < TARGET_PLAN else "NOT met"
        out.append(
            f"{size}: plan / apply = {plan:.2f} (plan {cs['plan_s']:.3f}s;"
            f" target < {TARGET_PLAN}: {met})"
        )
    if cs.get("floor_s"):
        floor = cs["floor_s"] / cs["seconds"]
        out.append(
            f"{size}: netlink floor = {floor:.2f} of apply ({cs['floor_s']:.3f}s: a"
            " fresh interpreter importing pyroute2 and dumping links, addresses and"
            " routes, nothing else)"
        )
    return out


_ROW = "{:7} {:10} {:>9} {:>14} {:>14}  {}"


def table(rows: list[Row]) -> str:
    """The result table, then each row's time per step."""
    head = _ROW.format(
        "size", "cleaner", "seconds", "flannel left", "foreign lost", "note"
    )
    lines, steps = [head, "-" * len(head)], []
    for r in rows:
        left = lost = secs = "-"
        if r.get("ok"):
            left = f"{r['flannel_left']}/{r['flannel_total']}"
            lost = f"{r['foreign_lost']}/{r['foreign_total']}"
            secs = f"{r['seconds']:.3f}"
            parts = ", ".join(f"{k} {v:.3f}" for k, v in sorted(r["steps"].items()))
            steps.append(f"  {r['size']} {r['cleaner']}: {parts}")
        lines.append(_ROW.format(r["size"], r["cleaner"], secs, left, lost, r["note"]))
    return "\n".join([*lines, "seconds per step:", *steps])


def run_all(sizes: list[str], cleaners: list[str], repeat: int) -> list[Row]:
    """Every size x cleaner, ``repeat`` times interleaved, aggregated."""
    unavailable = cniscrub_unavailable() if "cniscrub" in cleaners else None
    rows: list[Row] = []
    for size in sizes:
        runs: dict[str, list[Row]] = {c: [] for c in cleaners}
        for _ in range(repeat):
            for cleaner in cleaners:
                if cleaner == "cniscrub" and unavailable:
                    note = unavailable
                    runs[cleaner] = [{"size": size, "cleaner": cleaner, "note": note}]
                    continue
                runs[cleaner].append(run_one(size, cleaner))
        rows += [aggregate(runs[c]) for c in cleaners]
    if unavailable:
        log(f"cniscrub skipped: {unavailable}")
    return rows


def main(argv: list[str] | None = None) -> int:
    """Entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="small,medium,large")
    parser.add_argument("--cleaners", default="cniscrub,k3s-style,runbook")
    parser.add_argument("--repeat", type=int, default=1)
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
    before, load = host_state(), os.getloadavg()
    rows = run_all(sizes, cleaners, max(1, args.repeat))
    print(table(rows))
    builds = {r["size"]: r["build_s"] for r in rows if r.get("build_s")}
    print("build time: " + ", ".join(f"{s} {b:.2f}s" for s, b in builds.items()))
    for size in sizes:
        print("\n".join(targets(rows, size)))
    print(f"load average at start: {load[0]:.2f} (other work on this host skews times)")
    after = host_state()
    if after != before:  # this bench creates neither: other users of the host
        nb, na = len(before[0].split()), len(after[0].split())
        log(
            f"note: host changed meanwhile: netns {nb} -> {na}, mounts {before[1]}"
            f" -> {after[1]} (not by this bench: it mounts nothing in the host)"
        )
    if args.json:
        doc = {"rows": rows, "host_unchanged": after == before, "load_start": load}
        args.json.write_text(json.dumps(doc, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
