"""Exact runtime and kubelet wordings for pod network failures (test emulation, pure).

Pinned by the reference (fact: flannel-footprint.md §3.5):
- containerd 1.6/1.7: ``failed to setup network for sandbox "<id>": <libcni err>``,
  libcni ≥ v1.0 adding ``plugin type="X" failed (add): …``; teardown ``failed to destroy
  network for sandbox "<id>": plugin type="X" failed (delete): …``.
- containerd 1.5: same without the ``plugin type=`` part (libcni v0.8.1).
- CRI-O: ``failed to create pod network sandbox k8s_<pod>_<ns>_<uid>_0(<id>): error
  adding pod <ns>_<pod> to CNI network "<net>": <libcni err>``.
- dockershim: ``failed to set up sandbox container "<id>" network for pod "<pod>":
  networkPlugin cni failed to set up pod "<pod>_<ns>" network: <raw err>``.
- kubelet event: ``Failed to create pod sandbox: rpc error: code = Unknown desc = …``;
  not ready: ``container runtime network not ready: … Network plugin returns error: cni
  plugin not initialized``.
Not in the reference: dockershim teardown (kubelet ``PluginManager.TearDownPod``) and
``docker: network plugin is not ready: cni config uninitialized`` were checked against
kubelet source; CRI-O teardown/not-ready and kubelet's FailedKillPod / NetworkNotReady
texts are inferred from memory of the source (marked ``inferred``).
"""

from __future__ import annotations

from dataclasses import dataclass

from harness.emulation.runtime.confsel import RUNTIMES
from harness.emulation.runtime.gofmt import go_quote

__all__ = [
    "RUNTIMES",
    "Pod",
    "add_failure",
    "del_failure",
    "kill_event",
    "libcni_wraps",
    "network_not_ready",
    "network_not_ready_event",
    "runtime_not_ready",
    "sandbox_event",
    "setup_not_initialized",
    "teardown_not_initialized",
]

DEFAULT_RUNTIME = "containerd-1.7"
NOT_INITIALIZED = "cni plugin not initialized"
RPC_UNKNOWN = "rpc error: code = Unknown desc = "


@dataclass(frozen=True)
class Pod:
    """What the runtime knows of a pod sandbox."""

    sandbox_id: str
    name: str
    namespace: str
    uid: str


def _check(runtime: str) -> None:
    if runtime not in RUNTIMES:
        raise ValueError(f"unknown runtime {runtime!r}; choose from {RUNTIMES}")


def libcni_wraps(runtime: str) -> bool:
    """Whether the vendored libcni adds ``plugin type="X" failed (add|delete):``."""
    _check(runtime)
    return runtime not in ("containerd-1.5", "dockershim")


def _crio_sandbox_name(pod: Pod) -> str:
    return f"k8s_{pod.name}_{pod.namespace}_{pod.uid}_0"


def add_failure(runtime: str, pod: Pod, network: str, cni_error: str) -> str:
    """The runtime's RunPodSandbox error for a failed CNI ADD.

    ``cni_error`` is libcni's error as the runtime's libcni version prints it.
    """
    _check(runtime)
    sid = go_quote(pod.sandbox_id)
    if runtime.startswith("containerd"):
        return f"failed to setup network for sandbox {sid}: {cni_error}"
    if runtime == "crio":
        return (
            f"failed to create pod network sandbox {_crio_sandbox_name(pod)}"
            f"({pod.sandbox_id}): error adding pod {pod.namespace}_{pod.name} to CNI "
            f"network {go_quote(network)}: {cni_error}"
        )
    return (
        f"failed to set up sandbox container {sid} network for pod "
        f"{go_quote(pod.name)}: networkPlugin cni failed to set up pod "
        f"{go_quote(pod.name + '_' + pod.namespace)} network: {cni_error}"
    )


def del_failure(runtime: str, pod: Pod, network: str, cni_error: str) -> str:
    """The runtime's StopPodSandbox error for a failed CNI DEL."""
    _check(runtime)
    if runtime.startswith("containerd"):
        sid = go_quote(pod.sandbox_id)
        return f"failed to destroy network for sandbox {sid}: {cni_error}"
    if runtime == "crio":  # inferred: cri-o server/sandbox_network.go + ocicni
        return (
            f"failed to destroy network for pod sandbox {_crio_sandbox_name(pod)}"
            f"({pod.sandbox_id}): error removing pod {pod.namespace}_{pod.name} from "
            f"CNI network {go_quote(network)}: {cni_error}"
        )
    # inferred: kubelet network/plugins.go PluginManager.TearDownPod
    return (
        f"networkPlugin cni failed to teardown pod "
        f"{go_quote(pod.name + '_' + pod.namespace)} network: {cni_error}"
    )


def sandbox_event(runtime_error: str) -> str:
    """Kubelet's FailedCreatePodSandBox event message around a runtime error."""
    return f"Failed to create pod sandbox: {RPC_UNKNOWN}{runtime_error}"


def kill_event(pod_uid: str, runtime_error: str) -> str:
    """Kubelet's FailedKillPod event message (inferred: kubelet SyncResult format)."""
    inner = go_quote(f"{RPC_UNKNOWN}{runtime_error}")
    return (
        f'error killing pod: failed to "KillPodSandbox" for {go_quote(pod_uid)} '
        f"with KillPodSandboxError: {inner}"
    )


def runtime_not_ready(runtime: str, conf_dir: str = "/etc/cni/net.d") -> str:
    """The CRI NetworkReady condition message when no network is loaded."""
    _check(runtime)
    if runtime.startswith("containerd"):
        return f"Network plugin returns error: {NOT_INITIALIZED}"
    if runtime == "crio":  # inferred: ocicni errMissingDefaultNetwork
        return (
            f"Network plugin returns error: No CNI configuration file in "
            f"{conf_dir.rstrip('/')}/. Has your network provider started?"
        )
    return "docker: network plugin is not ready: cni config uninitialized"  # inferred


def network_not_ready(runtime: str, conf_dir: str = "/etc/cni/net.d") -> str:
    """Kubelet's text for the runtime's NetworkReady=false condition.

    This is the Node Ready condition message (reason ``KubeletNotReady``).
    """
    return (
        "container runtime network not ready: NetworkReady=false "
        f"reason:NetworkPluginNotReady message:{runtime_not_ready(runtime, conf_dir)}"
    )


def network_not_ready_event(runtime: str, conf_dir: str = "/etc/cni/net.d") -> str:
    """Kubelet's NetworkNotReady pod event (inferred: kubelet syncPod)."""
    return f"network is not ready: {network_not_ready(runtime, conf_dir)}"


def setup_not_initialized(
    runtime: str, pod: Pod, conf_dir: str = "/etc/cni/net.d"
) -> str:
    """RunPodSandbox error if the runtime is asked to ADD while not initialized.

    Kubelet normally does not ask (it emits NetworkNotReady first); containerd text is
    go-cni ``Setup`` → ``ErrCNINotInitialized``; CRI-O and dockershim are inferred.
    """
    _check(runtime)
    if runtime.startswith("containerd"):
        return add_failure(runtime, pod, "", NOT_INITIALIZED)
    if runtime == "crio":
        return (
            f"failed to create pod network sandbox {_crio_sandbox_name(pod)}"
            f"({pod.sandbox_id}): No CNI configuration file in "
            f"{conf_dir.rstrip('/')}/. Has your network provider started?"
        )
    return add_failure(runtime, pod, "", "cni config uninitialized")


def teardown_not_initialized(runtime: str, pod: Pod) -> str:
    """StopPodSandbox error when no network is loaded at DEL (go-cni ``Remove``)."""
    _check(runtime)
    if runtime.startswith("containerd"):
        return del_failure(runtime, pod, "", NOT_INITIALIZED)
    if runtime == "crio":  # inferred
        return (
            f"failed to destroy network for pod sandbox {_crio_sandbox_name(pod)}"
            f"({pod.sandbox_id}): cni config uninitialized"
        )
    return del_failure(runtime, pod, "", "cni config uninitialized")
