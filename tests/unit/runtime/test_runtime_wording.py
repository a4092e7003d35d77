"""Golden tests: runtime and kubelet wordings for pod network failures."""

from __future__ import annotations

import pytest

from harness.emulation.runtime import wording
from harness.emulation.runtime.wording import Pod

SID = "2b4cd1a2b0d81bd24fe0b3a0a3ff0ba0c6f07d3f8e8e5b3c4e4aa9a8f5fe1c0d"
POD = Pod(
    SID,
    "coredns-5d78c9869d-8xk2p",
    "kube-system",
    "0c1b2a3d-aaaa-bbbb-cccc-1234567890ab",
)
SUBNET_ENV = "open /run/flannel/subnet.env: no such file or directory"
FLANNEL_ERR = f"loadFlannelSubnetEnv failed: {SUBNET_ENV}"
EVENT = "Failed to create pod sandbox: rpc error: code = Unknown desc = "
WRAPPED = f'plugin type="flannel" failed (add): {FLANNEL_ERR}'


def test_containerd_17_add_event() -> None:
    # fact: flannel-footprint.md §3.5 (containerd 1.6/1.7, quoted in #2253 and #2232)
    got = wording.sandbox_event(
        wording.add_failure("containerd-1.7", POD, "cbr0", WRAPPED)
    )
    assert got == (
        f"{EVENT}failed to setup "
        f'network for sandbox "{SID}": plugin type="flannel" failed (add): '
        "loadFlannelSubnetEnv failed: open /run/flannel/subnet.env: no such file or "
        "directory"
    )


def test_containerd_16_same_as_17() -> None:
    # fact: flannel-footprint.md §3.5 (1.6.x / 1.7.x share the wording)
    a = wording.add_failure("containerd-1.6", POD, "cbr0", WRAPPED)
    assert a == wording.add_failure("containerd-1.7", POD, "cbr0", WRAPPED)


def test_containerd_15_has_no_plugin_type() -> None:
    # fact: flannel-footprint.md §3.5 (containerd 1.5, libcni v0.8.1, k3s-io/k3s#122)
    assert not wording.libcni_wraps("containerd-1.5")
    raw = "open /run/flannel/subnet.env: no such file or directory"
    got = wording.add_failure("containerd-1.5", POD, "cbr0", raw)
    assert got == (
        f'failed to setup network for sandbox "{SID}": open /run/flannel/subnet.env: '
        "no such file or directory"
    )


def test_crio_add() -> None:
    # fact: flannel-footprint.md §3.5 (CRI-O / ocicni, quoted in #2063)
    got = wording.sandbox_event(wording.add_failure("crio", POD, "cbr0", WRAPPED))
    assert got == (
        f"{EVENT}failed to create "
        "pod network sandbox k8s_coredns-5d78c9869d-8xk2p_kube-system_"
        f"0c1b2a3d-aaaa-bbbb-cccc-1234567890ab_0({SID}): error adding pod "
        'kube-system_coredns-5d78c9869d-8xk2p to CNI network "cbr0": plugin '
        'type="flannel" failed (add): loadFlannelSubnetEnv failed: open '
        "/run/flannel/subnet.env: no such file or directory"
    )


def test_dockershim_add_raw_error() -> None:
    # fact: flannel-footprint.md §3.5 (dockershim, kubernetes/website#10377)
    assert not wording.libcni_wraps("dockershim")
    raw = "open /run/flannel/subnet.env: no such file or directory"
    got = wording.sandbox_event(wording.add_failure("dockershim", POD, "cbr0", raw))
    assert got == (
        f"{EVENT}failed to set up "
        f'sandbox container "{SID}" network for pod "coredns-5d78c9869d-8xk2p": '
        'networkPlugin cni failed to set up pod "coredns-5d78c9869d-8xk2p_kube-system" '
        "network: open /run/flannel/subnet.env: no such file or directory"
    )


def test_containerd_teardown() -> None:
    # fact: flannel-footprint.md §3.5 teardown wording, §3.3 (#1662 error text)
    err = (
        'plugin type="flannel" failed (delete): '
        "failed to parse netconf: unexpected end of JSON input"
    )
    got = wording.del_failure("containerd-1.7", POD, "cbr0", err)
    assert got == (
        f'failed to destroy network for sandbox "{SID}": plugin type="flannel" failed '
        "(delete): failed to parse netconf: unexpected end of JSON input"
    )


def test_containerd_not_ready_node_condition() -> None:
    # fact: flannel-footprint.md §3.5 "No conflist left" (containerd status.go + go-cni)
    for runtime in ("containerd-1.5", "containerd-1.6", "containerd-1.7"):
        assert wording.network_not_ready(runtime) == (
            "container runtime network not ready: NetworkReady=false "
            "reason:NetworkPluginNotReady message:Network plugin returns error: "
            "cni plugin not initialized"
        )


def test_not_ready_other_runtimes_inferred() -> None:
    # inferred from ocicni / dockershim source; not in the reference
    assert wording.runtime_not_ready("crio") == (
        "Network plugin returns error: No CNI configuration file in /etc/cni/net.d/. "
        "Has your network provider started?"
    )
    assert wording.runtime_not_ready("dockershim") == (
        "docker: network plugin is not ready: cni config uninitialized"
    )


def test_setup_and_teardown_not_initialized_containerd() -> None:
    assert wording.setup_not_initialized("containerd-1.7", POD) == (
        f'failed to setup network for sandbox "{SID}": cni plugin not initialized'
    )
    assert wording.teardown_not_initialized("containerd-1.7", POD) == (
        f'failed to destroy network for sandbox "{SID}": cni plugin not initialized'
    )


def test_kill_event_quotes_inner_error() -> None:
    got = wording.kill_event("uid-1", 'failed to destroy network for sandbox "x": boom')
    assert got == (
        'error killing pod: failed to "KillPodSandbox" for "uid-1" with '
        'KillPodSandboxError: "rpc error: code = Unknown desc = failed to destroy '
        'network for sandbox \\"x\\": boom"'
    )


def test_unknown_runtime_rejected() -> None:
    with pytest.raises(ValueError, match="unknown runtime"):
        wording.add_failure("rkt", POD, "cbr0", "x")
