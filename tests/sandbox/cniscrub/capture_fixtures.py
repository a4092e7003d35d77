"""Capture the golden fixtures under tests/fixtures/cniscrub/ from REAL tool output.

Run as root: ``.venv/bin/python tests/sandbox/cniscrub/capture_fixtures.py``. Each case
builds a throwaway sandbox node (csb_residue), runs cniscrub's own ``collect`` functions
inside its netns (real iptables-save / nft -j / pyroute2 dumps / file scan), and freezes
{argv, stdout, expected} per inventory kind and {raw, expected plan} per planner case.
``expected`` is the parser output at capture time; review the diff when re-capturing.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import csb_residue as residue
from csb_nodebuilder import PY, Node

REPO = Path(__file__).resolve().parents[3]
OUT = REPO / "tests/fixtures/cniscrub"
sys.path.insert(0, str(REPO))

COLLECT = """
import json, sys
from cniscrub import footprints
from cniscrub.inventory import collect_raw
from cniscrub.node.runner import LocalRunner
from cniscrub.node.rootfs import RootFS
scope = footprints.get("flannel").scope
state = collect_raw(RootFS(sys.argv[1]), LocalRunner(), scope)
raw, notes = state.raw, state.notes
raw["processes"] = [p for p in raw["processes"] if p["comm"] == "flanneld"]
print(json.dumps({"raw": raw, "notes": notes}))
"""


def collect(node: Node) -> dict[str, object]:
    out = subprocess.run(
        ["ip", "netns", "exec", node.name, PY, "-c", COLLECT, str(node.root)],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"},
    )
    return json.loads(out.stdout)  # type: ignore[no-any-return]


def old_masq(node: Node) -> None:
    # fact: cleanup-anchors.md k3s#5001 / rke2#2599: pre-comment flannel masq rules
    net, pod = "10.244.0.0/16", "10.244.1.0/24"
    masq = "MASQUERADE --random-fully"
    node.ipt(
        "nft",
        4,
        "\n".join(
            [
                "*nat",
                f"-A POSTROUTING -s {net} -d {net} -j RETURN",
                f"-A POSTROUTING -s {net} ! -d 224.0.0.0/4 -j {masq}",
                f"-A POSTROUTING ! -s {net} -d {pod} -j RETURN",
                f"-A POSTROUTING ! -s {net} -d {net} -j {masq}",
                # same shape, another network: NOT proven Flannel's -> must stay
                "-A POSTROUTING -s 10.99.0.0/16 -d 10.99.0.0/16 -j RETURN",
                "COMMIT",
                "",
            ]
        ),
    )
    node.write("/run/flannel/subnet.env", residue.subnet_env(False))


def shared_cni0(node: Node) -> None:
    residue.flannel(node, pods=1)
    conf = {
        "cniVersion": "1.0.0",
        "name": "containerd-net",
        "plugins": [{"type": "bridge", "isGateway": True}],
    }  # default bridge cni0
    node.write("/etc/cni/net.d/20-containerd-net.conflist", json.dumps(conf))


def bad_input(node: Node) -> None:
    residue.flannel(node, pods=1)
    node.write("/etc/cni/net.d/10-flannel.conflist", "{ not json")
    node.write("/run/flannel/subnet.env", b"\x00\xff\x00")


CASES: dict[str, Callable[[Node], None]] = {
    "v0.27-nft-foreign": lambda n: (
        residue.foreign(n),
        residue.flannel(n, pods=2, blackhole=True),
    ),
    "v0.26-legacy-empty-chains": lambda n: residue.flannel(
        n, version="v0.26", backend="legacy"
    ),
    "v0.24-legacy-dualstack": lambda n: residue.flannel(
        n, version="v0.24", backend="legacy", dual=True
    ),
    "nft-mode-dualstack": lambda n: residue.flannel(n, nft_mode=True, dual=True),
    "host-gw-legacy": lambda n: residue.flannel(n, host_gw_mode=True, backend="legacy"),
    "old-unmarked-masq": old_masq,
    "cni0-shared-with-containerd": shared_cni0,
    "bad-input": bad_input,
    "empty-node": lambda n: None,
}
INVENTORY_FROM = {
    "v0.27-nft-foreign",
    "v0.26-legacy-empty-chains",
    "v0.24-legacy-dualstack",
    "nft-mode-dualstack",
    "host-gw-legacy",
    "old-unmarked-masq",
    "bad-input",
}


def write(path: Path, doc: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n")


def inventory_fixtures(case: str, raw: dict[str, object]) -> None:
    from cniscrub.inventory import PARSERS
    from cniscrub.inventory import iptables as ipt

    for item in raw["iptables"]:  # type: ignore[attr-defined]
        expected = ipt.parse(item["stdout"], item["backend"], item["family"])
        write(
            OUT / f"inventory/iptables/{case}-{item['backend']}{item['family']}.json",
            {
                "argv": item["argv"],
                "params": [item["backend"], item["family"]],
                "stdout": item["stdout"],
                "expected": [r.to_json() for r in expected],
            },
        )
    write(
        OUT / f"inventory/nftables/{case}.json",
        {
            "argv": ["nft", "-j", "list", "ruleset"],
            "stdout": raw["nftables"],
            "expected": [r.to_json() for r in PARSERS["nftables"](raw["nftables"])],
        },
    )
    for kind in (
        "links",
        "addresses",
        "routes",
        "neighbours",
        "fdb",
        "files",
        "processes",
        "netns",
    ):
        stdout = json.dumps(raw[kind], sort_keys=True)
        write(
            OUT / f"inventory/{kind}/{case}.json",
            {
                "argv": ["cniscrub-collect", kind],
                "stdout": stdout,
                "expected": [r.to_json() for r in PARSERS[kind](raw[kind])],
            },
        )


def plan_fixture(case: str, data: dict[str, object]) -> None:
    from cniscrub.inventory import parse_raw
    from cniscrub.plan.planner import Policy, build_plan

    plan = build_plan(parse_raw(data["raw"], data["notes"]), Policy("flannel"))  # type: ignore[arg-type]
    write(
        OUT / f"plan/{case}.json",
        {
            "raw": data["raw"],
            "notes": data["notes"],
            "policy": {"cni": "flannel"},
            "expected": {
                "fingerprint": plan.fingerprint,
                "actions": [[a.phase, a.kind, a.key, a.target] for a in plan.actions],
                "left_alone": [list(x) for x in plan.left_alone],
                "attached_pods": len(plan.attached_pods),
                "warnings": list(plan.warnings),
            },
        },
    )


def replan() -> None:
    """Recompute only the expected plans from the frozen raw data (after a deliberate
    planner change); review the diff before committing."""
    for path in sorted((OUT / "plan").glob("*.json")):
        doc = json.loads(path.read_text())
        plan_fixture(path.stem, {"raw": doc["raw"], "notes": doc["notes"]})
        print("re-planned", path.stem)


def main() -> None:
    if "--replan" in sys.argv:
        replan()
        return
    for case, build in CASES.items():
        with tempfile.TemporaryDirectory() as tmp:
            node = Node.create(Path(tmp))
            try:
                node.underlay()
                build(node)
                data = collect(node)
            finally:
                node.destroy()
        if case in INVENTORY_FROM:
            inventory_fixtures(case, data["raw"])  # type: ignore[arg-type]
        plan_fixture(case, data)
        print("captured", case)


if __name__ == "__main__":
    main()
