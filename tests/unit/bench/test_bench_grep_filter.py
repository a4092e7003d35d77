"""The k3s pipeline's grep stand-in and the runbook/killall argv helpers."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

from bench.cleaners.competitors import (
    RUNBOOK,
    grep_filter,
    k3s_veths,
    runbook_argv,
)
from bench.cleaners.spec import SIZES, plan_node

SAMPLES = [
    b"",
    b"\n",
    b"no newline at end",
    b"*nat\n:KUBE-SERVICES - [0:0]\n-A FOO -j ACCEPT\nCOMMIT\n",
    b"-A X -m comment --comment kube-proxy -j ACCEPT\n",  # lower case: kept
    b'-A FLANNEL-FWD -s 10.244.0.0/16 -m comment --comment "flanneld forward"\n',
    b"-A X -m comment --comment FlAnNeL -j ACCEPT\n",
    b"-A CNI-HOSTPORT-DNAT -j RETURN\n-A X -j cni-foo\n",
    b"a\r\nKUBE-\rb\n\nlast",
    b"\xff\xfe binary flannel\n\xc3\xa9 ok\n",
]


def pipeline(data: bytes) -> bytes:
    """The real ``grep -v KUBE- | grep -v CNI- | grep -iv flannel`` (C locale)."""
    env = {"LC_ALL": "C", "PATH": "/usr/bin:/bin"}
    out = data
    for args in (["-v", "KUBE-"], ["-v", "CNI-"], ["-iv", "flannel"]):
        out = subprocess.run(
            ["grep", "-a", *args], input=out, capture_output=True, env=env, timeout=10
        ).stdout
    return out


@pytest.mark.skipif(shutil.which("grep") is None, reason="needs grep")
@pytest.mark.parametrize("data", SAMPLES)
def test_grep_filter_matches_real_grep(data: bytes) -> None:
    assert grep_filter(data) == pipeline(data)


@pytest.mark.skipif(shutil.which("grep") is None, reason="needs grep")
def test_grep_filter_matches_real_grep_on_generated_rules() -> None:
    text = plan_node(SIZES["small"]).restore_text.encode()
    assert grep_filter(text) == pipeline(text)
    kept = grep_filter(text).decode()
    assert "FLANNEL" not in kept and "KUBE-" not in kept
    assert "-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT" in kept


def test_k3s_veths_follows_the_shell_loop() -> None:
    shown = (
        "1: lo: <LOOPBACK,UP> mtu 65536 qdisc noqueue state UNKNOWN\n"
        "5: cni0: <BROADCAST,UP> mtu 1450 qdisc noqueue state UP\n"
        "6: veth1a2b3c4d@if2: <BROADCAST> mtu 1450 master cni0 state UP\n"
        "    link/ether 0e:cb:00:00:00:00 brd ff:ff:ff:ff:ff:ff link-netnsid 1\n"
        "7: vethdeadbeef@if2: <BROADCAST> mtu 1450 master br-user state UP\n"
        "8: plain: <BROADCAST> mtu 1500 master cni0 state UP\n"
    )
    assert k3s_veths(shown) == ["veth1a2b3c4d", "plain:"]


def test_runbook_maps_root_and_expands_globs(tmp_path: Path) -> None:
    netd = tmp_path / "etc/cni/net.d"
    netd.mkdir(parents=True)
    (netd / "b.conflist").write_text("{}")
    (netd / "a.conf").write_text("{}")
    (netd / ".hidden").write_text("{}")
    rm = next(step for step in RUNBOOK if step[0] == "rm")
    argv = runbook_argv(rm, tmp_path)
    assert argv[:4] == [
        "rm",
        "-rf",
        f"{tmp_path}/var/lib/cni/",
        f"{tmp_path}/run/flannel",
    ]
    assert argv[4:] == [str(netd / "a.conf"), str(netd / "b.conflist")]
    empty = tmp_path / "other"
    assert runbook_argv(rm, empty)[-1] == f"{empty}/etc/cni/net.d/*"  # sh keeps it
