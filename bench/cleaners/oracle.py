"""Reference floor: exact, batched deletion of the manifest's Flannel objects.

Not a real cleaner (it is told the ground truth instead of finding it); it
shows what exact removal costs on this host when batched well, next to which
the issue's target (cniscrub apply <= 0.35x k3s-style) can be judged:

- links: one ``ip -batch`` putting cni0's veths, cni0 and flannel.1 in one
  link group, then a single ``link delete group`` - the kernel unregisters them
  in one operation (one RCU grace period instead of one per link); their
  addresses, routes, neighbours and FDB entries go with them;
- rules: one ``iptables-restore --noflush`` with only ``-D``/``-F``/``-X``;
- files: unlinked one by one (no subprocess), then the emptied dirs.
"""

from __future__ import annotations

import time
from pathlib import Path

from .competitors import Outcome, run_step
from .rules import FLANNEL_CHAINS, FLANNEL_RULES
from .spec import SIZES, plan_node

GROUP = "4242"


def restore_text() -> str:
    """``iptables-restore --noflush`` input deleting Flannel's rules and chains."""
    out: list[str] = []
    for table in ("nat", "filter"):
        out.append(f"*{table}")
        out += ["-D" + line[2:] for t, line in FLANNEL_RULES if t == table]
        chains = [c for t, c in FLANNEL_CHAINS if t == table]
        out += [f"-F {c}" for c in chains] + [f"-X {c}" for c in chains]
        out.append("COMMIT")
    return "\n".join(out) + "\n"


def clean_oracle(root: Path, journal: Path, size: str) -> Outcome:
    """Remove exactly the manifest's Flannel objects of node ``size``."""
    spec = plan_node(SIZES[size])
    out = Outcome(note="oracle: told the manifest")
    links = [p.veth for p in spec.pods] + ["cni0", "flannel.1"]
    batch = [f"link set dev {name} group {GROUP}" for name in links]
    batch.append(f"link delete group {GROUP}")
    run_step(["ip", "-batch", "-"], out, "links", "\n".join(batch).encode() + b"\n")
    argv = ["iptables-restore", "--noflush", "-w", "5"]
    run_step(argv, out, "iptables", restore_text().encode())
    start = time.perf_counter()
    files = sorted((ident[0] for ident in spec.flannel["file"]), key=len, reverse=True)
    for rel in files:  # a dir's path is shorter than any path inside it
        path = root / rel
        if rel.endswith("/"):
            path.rmdir()
        else:
            path.unlink()
    out.steps["files"] = time.perf_counter() - start
    return out
