"""Delete and re-add policy-routing rules (``ip rule``) over netlink, each by every
selector the inventory recorded (priority included), so only that rule matches.

>>> args = rule_args({"family": 4, "priority": 32765, "table": 77, "action": "to_tbl",
...            "src": "10.244.1.0/24", "dst": None, "tos": 0, "fwmark": None,
...            "fwmask": None, "iif": None, "oif": None, "goto": None})
>>> sorted(args.items())  # doctest: +NORMALIZE_WHITESPACE
[('action', 'to_tbl'), ('family', 2), ('priority', 32765), ('src', '10.244.1.0'),
 ('src_len', 24), ('table', 77)]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from cniscrub.apply.result import APPLIED, GONE, Outcome, failed
from cniscrub.plan.model import Action

ENOENT = 2
OPTIONAL = (("fwmark", "fwmark"), ("fwmask", "fwmask"), ("iif", "iifname"),
            ("oif", "oifname"), ("goto", "goto"))  # fmt: skip


def rule_args(d: dict[str, Any]) -> dict[str, Any]:
    """pyroute2 ``rule()`` arguments naming exactly the rule ``d``."""
    args: dict[str, Any] = {
        "family": 10 if d["family"] == 6 else 2,
        "priority": d["priority"],
        "action": d["action"],
    }
    if d["action"] == "to_tbl":
        args["table"] = d["table"]
    for key in ("src", "dst"):
        if d.get(key):
            addr, _, plen = str(d[key]).partition("/")
            args[key], args[f"{key}_len"] = addr, int(plen)
    if d.get("tos"):
        args["tos"] = d["tos"]
    for key, arg in OPTIONAL:
        if d.get(key) is not None:
            args[arg] = d[key]
    return args


def delete_rules(actions: Sequence[Action]) -> dict[int, Outcome]:
    from pyroute2.iproute.linux import IPRoute
    from pyroute2.netlink.exceptions import NetlinkError

    out: dict[int, Outcome] = {}
    with IPRoute() as ipr:
        for a in actions:
            try:
                ipr.rule("del", **rule_args(a.data["resource"]["data"]))
                out[a.id] = APPLIED
            except NetlinkError as exc:
                gone = exc.code == ENOENT
                out[a.id] = GONE if gone else failed(f"rule del failed: {exc}")
    return out


def present_keys() -> set[str]:
    """Keys of the rules on the node now (``cniscrub.inventory.policy_rules``)."""
    from cniscrub.inventory import policy_rules
    from cniscrub.node import netlink

    return {r.key for r in policy_rules.parse(netlink.dump("rules"))}


def restore(d: dict[str, Any]) -> str:
    """Add the rule back; ``noop`` if that exact rule is there."""
    from pyroute2.iproute.linux import IPRoute

    from cniscrub.inventory.policy_rules import rule_key

    if rule_key(d) in present_keys():
        return "noop"
    with IPRoute() as ipr:
        ipr.rule("add", **rule_args(d))
    return "restored"
