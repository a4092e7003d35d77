"""Real-kernel tests: the runtime emulation runs the real CNI plugins in a node."""

from __future__ import annotations

import json
import os
import secrets
import stat
import subprocess
import sys

import pytest
from rtnode import REPO, Node, conflist

from harness.emulation.runtime import netns
from harness.flannel_install import cni_conf

pytestmark = pytest.mark.sandbox

EVENT = "Failed to create pod sandbox: rpc error: code = Unknown desc = "
SUBNET_ENV = "open /run/flannel/subnet.env: no such file or directory"
FLANNEL_MSG = f"loadFlannelSubnetEnv failed: {SUBNET_ENV}"
FAKE_FLANNEL = f"""#!/bin/sh
# behaves like flannel's CNI plugin without /run/flannel/subnet.env
cat > /dev/null
if [ "$CNI_COMMAND" = ADD ]; then
  echo '{{"cniVersion":"0.3.1","code":11,"msg":"{FLANNEL_MSG}"}}'
  exit 1
fi
exit 0
"""
FLANNEL_CONFLIST = json.dumps(cni_conf())  # the manifest's cni-conf.json
NOT_READY = (
    "container runtime network not ready: NetworkReady=false "
    "reason:NetworkPluginNotReady message:Network plugin returns error: "
    "cni plugin not initialized"
)


def _add(node: Node, name: str, *extra: str, sid: str | None = None) -> dict:
    sid = sid or secrets.token_hex(32)
    out = node.cli(
        "add", "--sandbox-id", sid, "--pod-name", name, "--pod-namespace", "default",
        "--pod-uid", f"uid-{name}", *extra,
    )  # fmt: skip
    out.setdefault("sandbox_id", sid)
    return out


def _write_cbr0(node: Node, *extra: dict, file: str = "10-cbr0.conflist") -> None:
    (node.conf / file).write_text(conflist("cbr0", node.ipam, *extra))


def test_two_pods_get_ips_and_ping_then_del_cleans(node: Node) -> None:
    _write_cbr0(node)
    a = _add(node, "a")
    b = _add(node, "b")
    assert a["ok"] and b["ok"], (a, b)
    assert a["ips"] == ["10.244.1.2/24"] and b["ips"] == ["10.244.1.3/24"]
    assert os.path.basename(a["netns"]).startswith("cni-")
    assert a["netns"].startswith(str(node.netns_dir))
    assert "cni0" in node.links()
    # lo is up in the pod (the loopback plugin ran); eth0 has the address
    show = node.run_in(a["netns"], "ip", "-o", "addr", "show").stdout
    assert "lo    inet 127.0.0.1/8" in show and "eth0    inet 10.244.1.2/24" in show
    ping = node.run_in(a["netns"], "ping", "-c", "1", "-W", "2", "10.244.1.3")
    assert ping.returncode == 0, ping.stdout + ping.stderr
    # libcni result cache, cniCacheV1 (fact: flannel-footprint.md §4)
    cached = node.cache / "results" / f"cbr0-{a['sandbox_id']}-eth0"
    data = json.loads(cached.read_text())
    assert data["kind"] == "cniCacheV1" and data["networkName"] == "cbr0"
    assert data["result"]["ips"][0]["address"] == "10.244.1.2/24"
    assert (node.cache / "results" / f"cni-loopback-{a['sandbox_id']}-lo").exists()
    assert (node.ipam / "cbr0" / "10.244.1.2").exists()
    veths = [n for n in node.links() if n.startswith("veth")]
    assert len(veths) == 2
    listed = node.cli("list")["sandboxes"]
    assert {s["sandbox_id"] for s in listed} == {a["sandbox_id"], b["sandbox_id"]}

    gone = node.cli("del", "--sandbox-id", a["sandbox_id"])
    assert gone == {"ok": True, "found": True, "netns_removed": True}
    assert not cached.exists()
    assert not (node.ipam / "cbr0" / "10.244.1.2").exists()
    assert (node.ipam / "cbr0" / "10.244.1.3").exists()
    assert not os.path.exists(a["netns"])
    assert len([n for n in node.links() if n.startswith("veth")]) == 1
    assert "cni0" in node.links()  # bridge DEL never deletes the bridge (§4)
    assert node.cli("del", "--sandbox-id", a["sandbox_id"])["found"] is False


def test_invalid_file_first_containerd_not_ready_crio_picks_next(node: Node) -> None:
    (node.conf / "00-broken.conflist").write_text('{"name": "x", ')
    _write_cbr0(node)
    status = node.cli("status")
    assert status["ready"] is False and status["reason"] == "NetworkPluginNotReady"
    assert status["message"] == NOT_READY
    assert status["load_error"].endswith(
        "unexpected end of JSON input: invalid cni config"
    )
    failed = _add(node, "a")
    assert failed["ok"] is False and failed["reason"] == "NetworkNotReady"
    assert failed["message"] == f"network is not ready: {NOT_READY}"
    assert failed["runtime_message"] == (
        f'{EVENT}failed to setup network for sandbox "{failed["sandbox_id"]}": '
        "cni plugin not initialized"
    )
    assert list(node.netns_dir.iterdir()) == []
    for runtime in ("crio", "dockershim"):
        assert node.cli("status", "--runtime", runtime)["ready"] is True
    ok = _add(node, "b", "--runtime", "crio")
    assert ok["ok"] and ok["network"] == "cbr0" and ok["ips"] == ["10.244.1.2/24"]
    docker = _add(node, "c", "--runtime", "dockershim")
    assert docker["ok"], docker
    assert (
        node.cache / "cache" / "results" / f"cbr0-{docker['sandbox_id']}-eth0"
    ).exists()


def test_missing_flannel_binary(node: Node) -> None:
    (node.conf / "10-flannel.conflist").write_text(FLANNEL_CONFLIST)
    out = _add(node, "a")
    sid = out["sandbox_id"]
    err = f'failed to find plugin "flannel" in path [{node.bin}]'
    assert out["ok"] is False and out["reason"] == "FailedCreatePodSandBox"
    assert out["message"] == (
        f'{EVENT}failed to setup network for sandbox "{sid}": '
        f'plugin type="flannel" failed (add): {err}'
    )
    # containerd's cleanup DEL also fails, so the netns is kept for StopPodSandbox
    assert out["netns_removed"] is False and os.path.exists(out["netns"])
    gone = node.cli("del", "--sandbox-id", sid)
    assert gone["ok"] is False and gone["reason"] == "FailedKillPod"
    assert gone["message"] == (
        f'failed to destroy network for sandbox "{sid}": '
        f'plugin type="flannel" failed (delete): {err}'
    )
    assert gone["netns_removed"] is False and os.path.exists(out["netns"])
    forced = node.cli("del", "--sandbox-id", sid, "--force")
    assert forced["netns_removed"] is True and not os.path.exists(out["netns"])


@pytest.mark.parametrize(
    ("runtime", "expected"),
    [
        (
            "containerd-1.7",
            'failed to setup network for sandbox "{sid}": plugin type="flannel" '
            f"failed (add): {FLANNEL_MSG}",
        ),
        (
            "containerd-1.5",
            f'failed to setup network for sandbox "{{sid}}": {FLANNEL_MSG}',
        ),
        (
            "crio",
            "failed to create pod network sandbox k8s_a_default_uid-a_0({sid}): error "
            'adding pod default_a to CNI network "cbr0": plugin type="flannel" failed '
            f"(add): {FLANNEL_MSG}",
        ),
        (
            "dockershim",
            'failed to set up sandbox container "{sid}" network for pod "a": '
            'networkPlugin cni failed to set up pod "a_default" network: '
            f"{FLANNEL_MSG}",
        ),
    ],
)
def test_flannel_error_wording(node: Node, runtime: str, expected: str) -> None:
    # fact: flannel-footprint.md §3.4 (v1.1.2+ message) and §3.5 (wrappings)
    fake = node.bin / "flannel"
    fake.write_text(FAKE_FLANNEL)
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    (node.conf / "10-flannel.conflist").write_text(FLANNEL_CONFLIST)
    out = _add(node, "a", "--runtime", runtime)
    sid = out["sandbox_id"]
    assert out["ok"] is False and out["reason"] == "FailedCreatePodSandBox"
    assert out["message"] == EVENT + expected.replace("{sid}", sid)
    assert out["netns_removed"] is True and not os.path.exists(out["netns"])
    assert list(node.netns_dir.iterdir()) == []
    assert not list((node.cache).rglob(f"cbr0-{sid}-eth0"))
    assert node.cli("list") == {"sandboxes": []}


def test_portmap_in_chain(node: Node) -> None:
    _write_cbr0(node, {"type": "portmap", "capabilities": {"portMappings": True}})
    mapping = [{"hostPort": 18080, "containerPort": 80, "protocol": "tcp"}]
    out = _add(node, "web", "--port-mappings", json.dumps(mapping))
    if not out["ok"] and "iptables" in out["message"]:
        pytest.skip(f"iptables unusable in a private netns: {out['message']}")
    assert out["ok"], out
    rules = node.run_in(node.ns_path, "iptables", "-t", "nat", "-S")
    if rules.returncode != 0:
        pytest.skip(f"cannot read iptables: {rules.stderr}")
    assert "CNI-HOSTPORT-DNAT" in rules.stdout
    assert "--dport 18080" in rules.stdout and "10.244.1.2:80" in rules.stdout
    cached = json.loads(
        (node.cache / "results" / f"cbr0-{out['sandbox_id']}-eth0").read_text()
    )
    assert cached["capabilityArgs"] == {"portMappings": mapping}
    assert node.cli("del", "--sandbox-id", out["sandbox_id"])["ok"] is True
    after = node.run_in(node.ns_path, "iptables", "-t", "nat", "-S").stdout
    assert "--dport 18080" not in after


def test_del_after_config_removed(node: Node) -> None:
    _write_cbr0(node)
    a = _add(node, "a")
    b = _add(node, "b", "--runtime", "crio")
    (node.conf / "10-cbr0.conflist").unlink()
    assert node.cli("status")["message"] == NOT_READY
    # containerd tears down with the loaded config: none is loaded any more
    gone = node.cli("del", "--sandbox-id", a["sandbox_id"])
    assert gone["ok"] is False and gone["message"] == (
        f'failed to destroy network for sandbox "{a["sandbox_id"]}": '
        "cni plugin not initialized"
    )
    assert gone["event_message"].startswith(
        'error killing pod: failed to "KillPodSandbox" for "uid-a" with '
        'KillPodSandboxError: "rpc error: code = Unknown desc = failed to destroy'
    )
    assert os.path.exists(a["netns"])
    # CRI-O (ocicni) uses the config cached at ADD and succeeds
    assert node.cli("del", "--sandbox-id", b["sandbox_id"])["ok"] is True
    assert not (node.ipam / "cbr0" / "10.244.1.3").exists()
    # the cached mode can be forced for containerd too
    cached = node.cli("del", "--sandbox-id", a["sandbox_id"], "--del-config", "cached")
    assert cached["ok"] is True and not os.path.exists(a["netns"])


def _cli_argv(node: Node, *args: str) -> list[str]:
    return ["nsenter", f"--net={node.ns_path}", sys.executable, "-m",
            "harness.emulation.runtime", *args]  # fmt: skip


def test_internal_error_exit_code(node: Node) -> None:
    _write_cbr0(node)
    sid = secrets.token_hex(32)
    assert _add(node, "a", sid=sid)["ok"]
    again = subprocess.run(
        ["nsenter", f"--net={node.ns_path}", sys.executable, "-m",
         "harness.emulation.runtime", "add", "--sandbox-id", sid, "--pod-name", "a",
         "--pod-namespace", "default", "--pod-uid", "u"],
        env=node.env, cwd=REPO, capture_output=True, text=True, check=False, timeout=30,
    )  # fmt: skip
    assert again.returncode == 1 and "already exists" in again.stderr
    assert again.stdout == ""


def test_add_timing(node: Node) -> None:
    _write_cbr0(node)
    timings = [_add(node, f"p{i}")["elapsed_ms"] for i in range(3)]
    assert min(timings) < 150, timings


def test_del_after_netns_vanished_releases_ip(node: Node) -> None:
    # like a node reboot: /run is fresh, the pod netns is gone, /var state remains
    _write_cbr0(node)
    a = _add(node, "a")
    assert netns.remove(a["netns"])
    listed = node.cli("list")["sandboxes"]
    assert listed[0]["netns_exists"] is False
    gone = node.cli("del", "--sandbox-id", a["sandbox_id"])
    assert gone["ok"] is True, gone
    assert not (node.ipam / "cbr0" / "10.244.1.2").exists()
    assert not list(node.cache.rglob(f"*{a['sandbox_id']}*"))


def test_concurrent_adds_get_distinct_ips(node: Node) -> None:
    _write_cbr0(node)
    procs = [
        subprocess.Popen(
            _cli_argv(
                node,
                "add",
                "--sandbox-id",
                secrets.token_hex(32),
                "--pod-name",
                f"p{i}",
                "--pod-namespace",
                "default",
                "--pod-uid",
                f"u{i}",
            ),
            env=node.env,
            cwd=REPO,
            stdout=subprocess.PIPE,
            text=True,
        )
        for i in range(4)
    ]
    outs = [json.loads(p.communicate(timeout=60)[0]) for p in procs]
    assert all(o["ok"] for o in outs), outs
    ips = {o["ips"][0] for o in outs}
    assert len(ips) == 4
    mounts = subprocess.run(
        ["findmnt", "-rn", "-o", "TARGET"], capture_output=True, text=True, check=True
    ).stdout.splitlines()
    assert mounts.count(str(node.netns_dir)) == 1  # the netns dir is bound once
