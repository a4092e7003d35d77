"""Destroy and re-create ipsets over netlink (pyroute2; no ``ipset`` binary needed).

A set is destroyed only after the plan's iptables rules that use it are gone (ipsets
come last in the netfilter phase); a set the kernel still reports in use (a rule the
plan does not remove references it) fails with that reason and stays. Restore creates
the set with its type, family and create options and adds every member back -- only
for member formats it can rebuild exactly (IP, network, ``proto:port`` components), so
:func:`restorable` is checked before a set is touched.

>>> restorable({"type": "hash:net", "members": [{"entry": "10.244.1.0/24"}]})
>>> restorable({"type": "list:set", "members": []})
'ipset type list:set cannot be re-created by cniscrub'
>>> entry_args("hash:ip,port", "10.0.0.1,tcp:80")[0]
'ip,port'
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from cniscrub.apply.result import APPLIED, GONE, Outcome, failed
from cniscrub.plan.model import Action

COMPONENTS = {"ip", "net", "port"}
PROTOCOL_NUMBERS = {"tcp": 6, "udp": 17, "sctp": 132}
ENOENT = 2  # no such set: gone already
IPSET_ERR_REFERENCED = 4100  # "it is in use by a kernel component"


def _components(kind: str) -> list[str]:
    return kind.split(":", 1)[1].split(",") if ":" in kind else []


def restorable(d: dict[str, Any]) -> str | None:
    """Why the set ``d`` could not be put back exactly (None: it can)."""
    parts = _components(str(d.get("type")))
    if not parts or not set(parts) <= COMPONENTS or not d["type"].startswith("hash:"):
        return f"ipset type {d.get('type')} cannot be re-created by cniscrub"
    for m in d.get("members", []):
        if len(str(m.get("entry", "")).split(",")) != len(parts):
            return f"member {m.get('entry')!r} does not fit type {d['type']}"
    return None


def entry_args(kind: str, entry: str) -> tuple[str, list[Any]]:
    """pyroute2's ``etype`` and entry components for one member."""
    from pyroute2.ipset import PortEntry

    etype = ",".join(_components(kind))
    values: list[Any] = []
    for part, comp in zip(entry.split(","), _components(kind), strict=True):
        if comp == "port":
            proto, _, port = part.rpartition(":")
            values.append(PortEntry(int(port), protocol=PROTOCOL_NUMBERS.get(proto)))
        else:
            values.append(part)
    return etype, values


def destroy(actions: Sequence[Action]) -> dict[int, Outcome]:
    from pyroute2.ipset import IPSet
    from pyroute2.netlink.exceptions import NetlinkError

    out: dict[int, Outcome] = {}
    with IPSet() as ipset:
        for a in actions:
            try:
                ipset.destroy(a.key)
                out[a.id] = APPLIED
            except NetlinkError as exc:
                if exc.code == ENOENT:
                    out[a.id] = GONE
                elif exc.code == IPSET_ERR_REFERENCED:
                    out[a.id] = failed(f"ipset {a.key} is still in use by the kernel")
                else:
                    out[a.id] = failed(f"ipset destroy failed: {exc}")
    return out


def names() -> set[str] | None:
    """Names of the sets now on the node (None if they cannot be read)."""
    from cniscrub.inventory import ipsets

    raw, notes = ipsets.collect()
    return None if notes else {r.key for r in ipsets.parse(raw)}


def restore(d: dict[str, Any]) -> str:
    """Create the set and add its members; ``noop`` if a set of that name exists."""
    from pyroute2.ipset import IPSet

    present = names()
    if present is not None and d["name"] in present:
        return "noop"
    why = restorable(d)
    if why:
        raise ValueError(why)
    opts = d.get("options", {})
    with IPSet() as ipset:
        ipset.create(
            d["name"],
            stype=d["type"],
            family=10 if d["family"] == 6 else 2,
            timeout=opts.get("timeout"),
            hashsize=opts.get("hashsize"),
            maxelem=opts.get("maxelem"),
        )
        for m in d.get("members", []):
            etype, values = entry_args(d["type"], m["entry"])
            ipset.add(
                d["name"],
                values if len(values) > 1 else values[0],
                family=10 if d["family"] == 6 else 2,
                etype=etype,
                timeout=m.get("timeout"),
            )
    return "restored"
