"""Inventory of IP addresses (both families) from a pyroute2 dump.

>>> raw = [{"family": 2, "prefixlen": 32, "index": 3, "scope": 0,
...         "attrs": {"IFA_ADDRESS": "10.244.1.0", "IFA_LABEL": "flannel.1"}}]
>>> parse(raw)[0].key
'3:10.244.1.0/32'
"""

from __future__ import annotations

from typing import Any

from cniscrub.inventory.model import Resource


def parse(raw: list[dict[str, Any]]) -> list[Resource]:
    """Pure: RTM_NEWADDR dicts -> ``address`` resources keyed ``<ifindex>:<cidr>``."""
    out = []
    for msg in raw:
        attrs = msg.get("attrs", {})
        addr = attrs.get("IFA_LOCAL") or attrs.get("IFA_ADDRESS")
        if addr is None:
            continue
        cidr = f"{addr}/{msg.get('prefixlen')}"
        data = {
            "index": msg.get("index"),
            "family": 6 if msg.get("family") == 10 else 4,
            "cidr": cidr,
            "scope": msg.get("scope", 0),
            "peer": attrs.get("IFA_ADDRESS") if attrs.get("IFA_LOCAL") else None,
            "label": attrs.get("IFA_LABEL"),
            "link_local": addr.startswith("fe80:"),
        }
        out.append(Resource("address", f"{msg.get('index')}:{cidr}", data))
    return out
