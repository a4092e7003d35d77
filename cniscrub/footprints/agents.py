"""Preflight from the inventory: a CNI's agent still running on this node blocks a
cleanup (it would re-create what is removed). Only an agent that shares the cleaner's
network namespace counts (``same_netns`` not False).

>>> from cniscrub.inventory.model import Inventory, Resource
>>> inv = Inventory()
>>> inv.add([Resource("process", "7", {"pid": 7, "comm": "toyd", "cmdline": "toyd -v"})])
>>> agent_blockers(inv, ("toyd",))
['toyd is running (pid 7: toyd -v)']
"""

from __future__ import annotations

from collections.abc import Sequence

from cniscrub.inventory.model import Inventory


def agent_blockers(inv: Inventory, agents: Sequence[str]) -> list[str]:
    """One blocker line per running process whose comm is one of ``agents``."""
    out = []
    for p in inv.of("process"):
        comm = p.data["comm"]
        if comm in agents and p.data.get("same_netns") is not False:
            cmdline = str(p.data.get("cmdline", ""))[:80]
            out.append(f"{comm} is running (pid {p.data['pid']}: {cmdline})")
    return out
