"""No false "clean" (issue 13, class 5), plus the output defects, on real nodes.

verify must not say clean while a conf the runtime could load still invokes the
flannel plugin (fact: containerd/libcni load every *.conf/*.conflist/*.json in
/etc/cni/net.d, sorted, the first one wins -- flannel-footprint.md §3.5 and
harness-anchors.md), or while a place Flannel's files live in could not be inspected.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import csb_residue as residue
import pytest
from csb_nodebuilder import Node
from test_cniscrub_sandbox_apply import cli

pytestmark = [pytest.mark.sandbox, pytest.mark.timeout(240)]


def _chained(node: Node, name: str, delegate: dict[str, object]) -> None:
    conf = {"cniVersion": "0.3.1", "name": "custom", "plugins": [
        {"type": "flannel", "delegate": delegate}, {"type": "bandwidth"}]}  # fmt: skip
    node.write(f"/etc/cni/net.d/{name}", json.dumps(conf))


BLOCKING: dict[str, Callable[[Node], None]] = {
    "conflist chaining flannel on cni0": lambda n: _chained(
        n, "05-custom.conflist", {}
    ),
    "conflist delegating to cni1": lambda n: _chained(
        n, "30-other.conflist", {"bridge": "cni1"}
    ),
    "single-plugin .conf": lambda n: n.write(
        "/etc/cni/net.d/20-flannel.conf", '{"name": "x", "type": "flannel"}'
    ),
}


@pytest.mark.parametrize("case", sorted(BLOCKING))
def test_a_conf_that_still_invokes_flannel_blocks_and_keeps_its_bridge(
    node: Node, tmp_path: Path, case: str
) -> None:
    residue.foreign(node)
    residue.flannel(node)
    BLOCKING[case](node)
    plan = json.loads(cli(node, tmp_path, "plan", "--cni", "flannel", "--json").stdout)
    assert any("still invokes the flannel plugin" in b for b in plan["blockers"])
    refused = cli(node, tmp_path, "apply", "--cni", "flannel", "--yes")
    assert (
        refused.returncode == 6 and "still invokes the flannel plugin" in refused.stderr
    )
    forced = cli(
        node, tmp_path, "apply", "--cni", "flannel", "--yes", "--force", "--json"
    )
    assert forced.returncode == 3, forced.stderr
    assert json.loads(forced.stdout)["verify"]["clean"] is False
    if case == "conflist chaining flannel on cni0":
        assert "cni0" in node.ip("-o", "link", "show")  # its bridge is kept
    verify = cli(node, tmp_path, "verify", "--cni", "flannel", "--json")
    assert verify.returncode == 2 and json.loads(verify.stdout)["clean"] is False


def test_a_hidden_conf_chaining_flannel_does_not_block(
    node: Node, tmp_path: Path
) -> None:
    """Runtimes skip dot-files: a hidden conf cannot be loaded (not a blocker)."""
    residue.flannel(node)
    _chained(node, ".05-custom.conflist", {})
    out = cli(node, tmp_path, "apply", "--cni", "flannel", "--yes", "--json")
    assert out.returncode == 0, out.stderr


def _symlink_dir(node: Node, tmp: Path, path: str) -> None:
    real = tmp / "elsewhere" / path.strip("/").replace("/", "_")
    shutil.copytree(node.root / path.lstrip("/"), real)
    shutil.rmtree(node.root / path.lstrip("/"))
    (node.root / path.lstrip("/")).symlink_to(real)


UNINSPECTABLE: dict[str, str] = {
    "/etc/cni a symlink": "/etc/cni",
    "/etc/cni/net.d a symlink": "/etc/cni/net.d",
    "/run/flannel a symlink": "/run/flannel",
}


@pytest.mark.parametrize("case", sorted(UNINSPECTABLE))
def test_a_place_that_cannot_be_inspected_is_never_clean(
    node: Node, tmp_path: Path, case: str
) -> None:
    residue.flannel(node)
    _symlink_dir(node, tmp_path, UNINSPECTABLE[case])
    out = cli(node, tmp_path, "verify", "--cni", "flannel", "--json")
    doc = json.loads(out.stdout)
    assert out.returncode == 2 and doc["clean"] is False
    assert any("not inspected" in u for u in doc["unresolved"]), doc["unresolved"]
    applied = cli(node, tmp_path, "apply", "--cni", "flannel", "--yes", "--json")
    assert (
        applied.returncode == 3
        and json.loads(applied.stdout)["verify"]["clean"] is False
    )
    assert (tmp_path / "elsewhere").exists() and os.listdir(tmp_path / "elsewhere")


def test_a_foreign_conf_under_flannels_name_is_one_thing(
    node: Node, tmp_path: Path
) -> None:
    """A bridge conf saved as 10-flannel.conflist is another CNI's conf: not claimed,
    and it keeps cni0 -- never both "Flannel's" and "the other user of cni0"."""
    residue.flannel(node)
    conf = {"cniVersion": "0.4.0", "name": "mybridge", "plugins": [
        {"type": "bridge", "bridge": "cni0", "ipam": {"type": "host-local"}}]}  # fmt: skip
    node.write("/etc/cni/net.d/10-flannel.conflist", json.dumps(conf))
    plan = json.loads(cli(node, tmp_path, "plan", "--cni", "flannel", "--json").stdout)
    targets = [a["target"] for a in plan["actions"]]
    assert not any(
        "10-flannel.conflist" in t or t.startswith("bridge cni0") for t in targets
    )
    why = {x["target"]: x["why"] for x in plan["left_alone"]}
    assert (
        "does not invoke the flannel plugin"
        in why["file '/etc/cni/net.d/10-flannel.conflist'"]
    )
    assert "10-flannel.conflist" in why["bridge cni0 and its ports"]


def test_human_output_cannot_be_forged_by_a_file_name(
    node: Node, tmp_path: Path
) -> None:
    residue.flannel(node)
    forged = "x\n[apply] ✓ applied: everything \x1b[2J"
    node.write(f"/var/lib/cni/networks/cbr0/{forged}", "y")
    out = cli(node, tmp_path, "plan", "--cni", "flannel")
    assert "\x1b" not in out.stdout
    assert not any(ln.startswith("[apply]") for ln in out.stdout.splitlines())
    assert "x\\n[apply]" in out.stdout


def test_a_symlinked_plugin_binary_is_described_and_only_the_link_removed(
    node: Node, tmp_path: Path
) -> None:
    residue.flannel(node)
    target = node.root / "opt/cni/bin/flannel-v1.5"
    (node.root / "opt/cni/bin/flannel").rename(target)
    (node.root / "opt/cni/bin/flannel").symlink_to("flannel-v1.5")
    plan = json.loads(cli(node, tmp_path, "plan", "--cni", "flannel", "--json").stdout)
    action = next(a for a in plan["actions"] if a["key"] == "/opt/cni/bin/flannel")
    assert action["target"] == "symlink /opt/cni/bin/flannel"
    assert (
        "symlink to 'flannel-v1.5'" in action["reason"]
        and "copied" not in action["reason"]
    )
    assert cli(node, tmp_path, "apply", "--cni", "flannel", "--yes").returncode == 0
    assert target.exists() and not os.path.lexists(node.root / "opt/cni/bin/flannel")


def test_a_special_file_is_named_as_such(node: Node, tmp_path: Path) -> None:
    residue.flannel(node)
    env = node.root / "run/flannel/subnet.env"
    env.unlink()
    os.mkfifo(env)
    out = cli(node, tmp_path, "plan", "--cni", "flannel")
    assert "a special file (FIFO, socket…), not a regular file" in out.stdout
    assert "a other" not in out.stdout
