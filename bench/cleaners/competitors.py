"""The cleaners compared, as run inside the node's network namespace.

Each cleaner gets the node's root dir (every file path is mapped under it) and
a scratch journal dir; network commands act on the current netns, which the
worker entered the way ``ip netns exec`` does. Commands are argv lists, never shell.

- ``cniscrub``: ``cniscrub apply --cni flannel --yes --root ROOT --journal-dir J
  --json``.
- ``k3s``: the network part of k3s-killall.sh (cleanup-anchors.md §1), step by
  step: one ``ip link show``, one ``ip link delete`` process per veth whose
  master is cni0, ``ip link delete`` of the six fixed names (errors ignored),
  ``rm -rf /var/lib/cni/``, then for iptables and ip6tables
  ``save | grep -v KUBE- | grep -v CNI- | grep -iv flannel | restore``, with the
  greps done by ``grep_filter`` (see there why it is equivalent). Its netns
  deletion (``ip netns show | grep cni- | xargs ip netns delete``) acts on the
  host's /run/netns and is deliberately left out.
- ``runbook``: the manual per-node recipe (``RUNBOOK``; sources next to it).
- ``noop``: does nothing (census baseline).
- ``netlink-floor``: not a cleaner; a fresh interpreter that imports pyroute2 (as
  cniscrub does) and dumps links, addresses and routes, nothing else: the least any
  pyroute2-based ``plan`` costs on this node, next to which the plan target is read.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

TIMEOUT = 300
K3S_LINKS = (
    "cni0",
    "flannel.1",
    "flannel-v6.1",
    "kube-ipvs0",
    "flannel-wg",
    "flannel-wg-v6",
)


@dataclass
class Outcome:
    """How a cleaner run went (``ok`` False means: do not report its numbers)."""

    ok: bool = True
    note: str = ""
    commands: int = 0
    steps: dict[str, float] = field(default_factory=dict)  # label -> seconds


def run_step(
    argv: list[str], out: Outcome, step: str, stdin: bytes | None = None
) -> bytes:
    """Run ``argv`` (bounded), count and time it under ``step``, return stdout;
    failures are ignored, as in the scripts imitated here."""
    out.commands += 1
    start = time.perf_counter()
    proc = subprocess.run(
        argv, input=stdin, capture_output=True, timeout=TIMEOUT, check=False
    )
    out.steps[step] = out.steps.get(step, 0.0) + time.perf_counter() - start
    return proc.stdout


def grep_filter(data: bytes) -> bytes:
    """``grep -v KUBE- | grep -v CNI- | grep -iv flannel`` on ``data``.

    Equivalent for iptables-save text: grep splits on "\\n" only and prints each
    selected line followed by "\\n" (adding one to an unterminated last line);
    ``-v PATTERN`` with these literal, metacharacter-free patterns drops lines
    containing the substring; ``-i`` folds ASCII case (C locale), which
    ``bytes.lower()`` does too. Chaining three filters equals one filter that
    requires all three conditions. iptables-save prints text, so grep's
    binary-file mode never applies (the unit test compares with ``grep -a``).
    """
    if not data:
        return b""
    lines = data.split(b"\n")
    if data.endswith(b"\n"):
        lines.pop()
    kept = [
        line
        for line in lines
        if b"KUBE-" not in line
        and b"CNI-" not in line
        and b"flannel" not in line.lower()
    ]
    return b"".join(line + b"\n" for line in kept)


def k3s_veths(ip_link_show: str) -> list[str]:
    """Names the killall loop deletes: ``grep 'master cni0' | read _ iface _``,
    then ``${iface%%@*}`` (a name without "@" keeps its trailing colon, as in sh)."""
    names = []
    for line in ip_link_show.splitlines():
        if "master cni0" in line:
            fields = line.split()
            iface = fields[1].split("@", 1)[0] if len(fields) > 1 else ""
            if iface:
                names.append(iface)
    return names


def clean_k3s(root: Path, journal: Path) -> Outcome:
    """k3s-killall.sh's network cleanup."""
    out = Outcome()
    shown = run_step(["ip", "link", "show"], out, "veths").decode(errors="replace")
    for iface in k3s_veths(shown):
        run_step(["ip", "link", "delete", iface], out, "veths")
    for name in K3S_LINKS:
        run_step(["ip", "link", "delete", name], out, "links")
    run_step(["rm", "-rf", f"{root}/var/lib/cni/"], out, "files")
    for family in ("iptables", "ip6tables"):
        saved = run_step([f"{family}-save"], out, family)
        run_step([f"{family}-restore"], out, family, stdin=grep_filter(saved))
    return out


# The article-style manual runbook. The reference has no single article text;
# each step is the documented manual fix it is made of:
# - `ip link delete cni0`, `ip link delete flannel.1`: cilium#3219 maintainer
#   comment and kube-router-footprint.md §3.3 "Usual fix" step 2;
# - `rm -rf /var/lib/cni/ /run/flannel /etc/cni/net.d/*`: flannel#820 recipe
#   (kube-router-footprint.md §3.4; it removes /etc/cni entirely, the runbook
#   empties net.d), with kubeadm#1822 in cleanup-anchors.md for the damage;
# - `iptables -F`, `iptables -t nat -F`, `iptables -t mangle -F`, `iptables -X`:
#   the k3s#774 flush workaround and kube-router#464 `iptables -t nat -F`
#   (cleanup-anchors.md "User complaints"), -X as in kubespray reset (§3).
RUNBOOK: tuple[tuple[str, ...], ...] = (
    ("ip", "link", "delete", "cni0"),
    ("ip", "link", "delete", "flannel.1"),
    (
        "rm",
        "-rf",
        "{root}/var/lib/cni/",
        "{root}/run/flannel",
        "{root}/etc/cni/net.d/*",
    ),
    ("iptables", "-F"),
    ("iptables", "-t", "nat", "-F"),
    ("iptables", "-t", "mangle", "-F"),
    ("iptables", "-X"),
)


def runbook_argv(step: tuple[str, ...], root: Path) -> list[str]:
    """One runbook step with ROOT mapped and ``*`` expanded as sh would."""
    argv: list[str] = []
    for arg in step:
        arg = arg.format(root=root)
        if "*" in arg:
            argv += sorted(glob.glob(arg)) or [arg]
        else:
            argv.append(arg)
    return argv


def clean_runbook(root: Path, journal: Path) -> Outcome:
    """The manual runbook, step by step."""
    out = Outcome()
    for step in RUNBOOK:
        label = "rm -rf" if step[0] == "rm" else " ".join(step)
        run_step(runbook_argv(step, root), out, label)
    return out


def clean_noop(root: Path, journal: Path) -> Outcome:
    """Do nothing."""
    return Outcome(note="does nothing")


def cniscrub_binary() -> str | None:
    """The cniscrub next to this interpreter, else on PATH."""
    local = Path(sys.executable).parent / "cniscrub"
    return str(local) if os.access(local, os.X_OK) else shutil.which("cniscrub")


def _cniscrub(
    args: list[str], ok_codes: tuple[int, ...], partial: tuple[int, ...]
) -> Outcome:
    exe = cniscrub_binary()
    if exe is None:
        return Outcome(False, "not available: cniscrub not installed")
    out = Outcome(commands=1)
    start = time.perf_counter()
    try:
        proc = subprocess.run(
            [exe, *args], capture_output=True, text=True, timeout=TIMEOUT
        )
    except subprocess.TimeoutExpired:
        return Outcome(False, f"not available: timed out after {TIMEOUT}s", 1)
    if proc.returncode in partial:
        out.note = f"partial (exit {proc.returncode})"
    elif proc.returncode not in ok_codes:
        tail = (proc.stderr.strip() or proc.stdout.strip()).splitlines()[-1:] or [""]
        return Outcome(
            False, f"not available: exit {proc.returncode}: {tail[0][:160]}", 1
        )
    out.steps[args[0]] = time.perf_counter() - start
    return out


def clean_cniscrub(root: Path, journal: Path) -> Outcome:
    """``cniscrub apply``."""
    args = ["apply", "--cni", "flannel", "--yes", "--root", str(root)]
    return _cniscrub([*args, "--journal-dir", str(journal), "--json"], (0,), (3,))


def plan_cniscrub(root: Path, journal: Path) -> Outcome:
    """``cniscrub plan`` (read-only; 0 nothing to do, 2 actions pending)."""
    return _cniscrub(
        ["plan", "--cni", "flannel", "--root", str(root), "--json"], (0, 2), ()
    )


FLOOR_CODE = """
from cniscrub.node import pyroute2_lean
pyroute2_lean.install()
from pyroute2.iproute.linux import IPRoute
with IPRoute() as ipr:
    n = len(ipr.get_links()) + len(ipr.get_addr()) + len(list(ipr.route("dump")))
assert n > 0
"""


def netlink_floor(root: Path, journal: Path) -> Outcome:
    """Time ``FLOOR_CODE`` in a fresh interpreter (read-only)."""
    out = Outcome(commands=1)
    start = time.perf_counter()
    try:
        proc = subprocess.run(
            [sys.executable, "-c", FLOOR_CODE],
            capture_output=True,
            timeout=TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return Outcome(False, f"not available: timed out after {TIMEOUT}s", 1)
    if proc.returncode != 0:
        tail = proc.stderr.decode(errors="replace").strip().splitlines()[-1:] or [""]
        return Outcome(False, f"not available: {tail[0][:160]}", 1)
    out.steps["floor"] = time.perf_counter() - start
    return out


CLEANERS: dict[str, Callable[[Path, Path], Outcome]] = {
    "cniscrub": clean_cniscrub,
    "k3s-style": clean_k3s,
    "runbook": clean_runbook,
    "noop": clean_noop,
    "cniscrub-plan": plan_cniscrub,
    "netlink-floor": netlink_floor,
}
