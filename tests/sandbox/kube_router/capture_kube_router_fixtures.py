"""Capture the kube-router golden fixtures from REAL kernel state.

Run as root: ``.venv/bin/python tests/sandbox/kube_router/capture_kube_router_fixtures.py``
(``--replan`` recomputes only the expected plans from the frozen raw data). Each case
builds two light nodes (:mod:`kr_lab`), runs the emulated kube-router on them with a pod,
stops it, and runs cniscrub's own collectors inside node 1's netns (real pyroute2
dumps, ``iptables-save``, ``nft -j``, the file scan). Frozen: the ``rules`` and
``ipsets`` inventory goldens ({argv, stdout, expected}) and one planner golden per case
under ``tests/fixtures/cniscrub/plan-kube-router/`` ({raw, notes, policy, expected}).
``expected`` is the code's output at capture time: review the diff when re-capturing.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]
OUT = REPO / "tests/fixtures/cniscrub"
sys.path[:0] = [str(HERE), str(REPO)]

from kr_lab import ARGS, Lab, Node, make_lab, wait_for  # noqa: E402
from kr_residue import flannel_leftovers, foreign  # noqa: E402

from harness import baseline  # noqa: E402

COLLECT = """
import json, sys
from cniscrub import footprints
from cniscrub.inventory import collect_raw
from cniscrub.node.rootfs import RootFS
from cniscrub.node.runner import LocalRunner
state = collect_raw(RootFS(sys.argv[1]), LocalRunner(), footprints.get("kube-router").scope)
raw = state.raw
raw["processes"] = [p for p in raw["processes"] if p["comm"] == "kube-router"]
print(json.dumps({"raw": raw, "notes": state.notes}))
"""


def collect(node: Node) -> dict[str, object]:
    out = subprocess.run(
        ["ip", "netns", "exec", node.ns, sys.executable, "-c", COLLECT, str(node.root)],
        capture_output=True, text=True, check=True, timeout=120,
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"},
    )  # fmt: skip
    return json.loads(out.stdout)  # type: ignore[no-any-return]


def run_kube_router(lab: Lab) -> None:
    lab.install_cni_conf()
    node = lab.nodes[0]
    for n in lab.nodes:
        n.start_agent(lab.state, *ARGS)
    lab.running_pod(node, "web", node.add_pod("web"))
    wait_for(lambda: "proto 17" in node.net_exec(["ip", "route"]).stdout, 20, "routes")
    wait_for(lambda: any("KUBE-POD-FW-" in ln for ln in node.save("filter")), 20, "fw")
    for n in lab.nodes:
        for proc in n.procs:
            n.stop_agent(proc)


def with_foreign(lab: Lab) -> None:
    baseline.apply([lab.nodes[0]])
    foreign(lab.nodes[0])


def with_flannel(lab: Lab) -> None:
    with_foreign(lab)
    flannel_leftovers(lab.nodes[0])


CASES: dict[str, Callable[[Lab], None]] = {
    "clean": lambda lab: None,
    "kube-proxy-foreign": with_foreign,  # + IPVS ipsets, operator rules (kr_residue)
    "flannel-leftovers": with_flannel,  # the swap: Flannel deleted, then kube-router
}


def write(path: Path, doc: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n")


def inventory_fixtures(case: str, raw: dict[str, object]) -> None:
    from cniscrub.inventory import PARSERS

    for kind in ("rules", "ipsets"):
        write(OUT / f"inventory/{kind}/kube-router-{case}.json", {
            "argv": ["cniscrub-collect", kind],
            "stdout": json.dumps(raw[kind], sort_keys=True),
            "expected": [r.to_json() for r in PARSERS[kind](raw[kind])],  # type: ignore[arg-type]
        })  # fmt: skip


def plan_fixture(case: str, data: dict[str, object]) -> None:
    from cniscrub.inventory import parse_raw
    from cniscrub.plan.planner import Policy, build_plan

    plan = build_plan(parse_raw(data["raw"], data["notes"]), Policy("kube-router"))  # type: ignore[arg-type]
    write(OUT / f"plan-kube-router/{case}.json", {
        "raw": data["raw"], "notes": data["notes"], "policy": {"cni": "kube-router"},
        "expected": {
            "fingerprint": plan.fingerprint,
            "actions": [[a.phase, a.kind, a.key, a.target] for a in plan.actions],
            "left_alone": [list(x) for x in plan.left_alone],
            "attached_pods": len(plan.attached_pods),
            "warnings": list(plan.warnings),
        },
    })  # fmt: skip


def main() -> None:
    if "--replan" in sys.argv:
        for path in sorted((OUT / "plan-kube-router").glob("*.json")):
            doc = json.loads(path.read_text())
            plan_fixture(path.stem, {"raw": doc["raw"], "notes": doc["notes"]})
            print("re-planned", path.stem)
        return
    for case, build in CASES.items():
        with tempfile.TemporaryDirectory() as tmp:
            lab = make_lab(Path(tmp))
            try:
                build(lab)
                run_kube_router(lab)
                data = collect(lab.nodes[0])
            finally:
                lab.teardown()
        inventory_fixtures(case, data["raw"])  # type: ignore[arg-type]
        plan_fixture(case, data)
        print("captured", case)


if __name__ == "__main__":
    main()
