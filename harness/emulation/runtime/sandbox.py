"""Pod sandbox network setup and teardown like a CRI runtime (test emulation only).

ADD (containerd ``RunPodSandbox``): create ``<netns_dir>/cni-<uuid>``, attach the
``cni-loopback`` network (the real ``loopback`` plugin, ifname ``lo``) and the selected
network (ifname ``eth0``) through libcni; on failure run CNI DEL, and remove the netns
only if that DEL succeeded (otherwise the sandbox stays recorded for a later ``del``).
DEL (``StopPodSandbox``): containerd/dockershim use the CURRENTLY loaded network (go-cni
``Remove``; a missing config gives ``cni plugin not initialized``), CRI-O (ocicni) the
config cached at ADD. Both are selectable with ``del_config``.
"""

from __future__ import annotations

import base64
import logging
import os
import time
from typing import Any

from harness.emulation.runtime import libcni, netns, state, wording
from harness.emulation.runtime.confsel import LoadError, NetworkList, parse_conflist

__all__ = ["add", "delete", "dumps", "list_sandboxes", "status"]

log = logging.getLogger(__name__)
status = state.status
list_sandboxes = state.list_sandboxes
dumps = state.dumps

IFNAME = "eth0"
LOOPBACK = parse_conflist(
    b'{\n"cniVersion": "0.3.1",\n"name": "cni-loopback",\n'
    b'"plugins": [{\n  "type": "loopback"\n}]\n}'
)


def _cni_args(pod: wording.Pod) -> list[tuple[str, str]]:
    return [
        ("IgnoreUnknown", "1"),
        ("K8S_POD_NAMESPACE", pod.namespace),
        ("K8S_POD_NAME", pod.name),
        ("K8S_POD_INFRA_CONTAINER_ID", pod.sandbox_id),
        ("K8S_POD_UID", pod.uid),
    ]


def _rtconf(
    pod: wording.Pod, ns_path: str, ifname: str, caps: dict[str, Any]
) -> libcni.RuntimeConf:
    return libcni.RuntimeConf(pod.sandbox_id, ns_path, ifname, _cni_args(pod), caps)


def _attachments(network: NetworkList) -> list[tuple[NetworkList, str]]:
    return [(LOOPBACK, "lo"), (network, IFNAME)]


def _ips(result: dict[str, Any]) -> list[str]:
    if isinstance(result.get("ips"), list):
        return [str(ip.get("address")) for ip in result["ips"] if ip.get("address")]
    return [
        str(result[k]["ip"]) for k in ("ip4", "ip6") if isinstance(result.get(k), dict)
    ]


def _teardown(
    paths: state.Paths,
    runtime: str,
    pod: wording.Pod,
    ns_path: str,
    attachments: list[tuple[NetworkList, str]],
    caps: dict[str, Any],
) -> str | None:
    """CNI DEL every attachment (go-cni ``Remove`` order); return the first error."""
    wrap = wording.libcni_wraps(runtime)
    cache = paths.cni_cache_dir(runtime)
    for network, ifname in attachments:
        rt = _rtconf(pod, ns_path, ifname, caps)
        try:
            libcni.del_network_list(network, rt, list(paths.bin_dirs), cache, wrap=wrap)
        except libcni.CNIError as exc:
            text = str(exc)
            if runtime.startswith("containerd") and (
                "not found" in text
                or (not ns_path and "no such file or directory" in text)
            ):
                continue  # go-cni Remove: best-effort cleanup rules
            return text
    return None


def _record(
    runtime: str,
    pod: wording.Pod,
    ns_path: str,
    network: NetworkList,
    caps: dict[str, Any],
    result: dict[str, Any],
    state: str,
) -> dict[str, Any]:
    return {
        "sandbox_id": pod.sandbox_id,
        "pod": {"name": pod.name, "namespace": pod.namespace, "uid": pod.uid},
        "runtime": runtime,
        "netns": ns_path,
        "network": network.name,
        "conf_file": network.source,
        "config_b64": base64.b64encode(network.raw).decode(),
        "capability_args": caps,
        "result": result,
        "ips": _ips(result),
        "state": state,
        "created": time.time(),
    }


def add(
    paths: state.Paths,
    runtime: str,
    pod: wording.Pod,
    port_mappings: list[Any] | None = None,
) -> dict[str, Any]:
    """Set up the pod network; return the CLI's JSON object."""
    start = time.monotonic()
    if state.read_record(paths, pod.sandbox_id) is not None:
        raise ValueError(f"sandbox {pod.sandbox_id} already exists")
    selection = paths.load(runtime)
    if isinstance(selection, LoadError):
        return {
            "ok": False,
            "reason": "NetworkNotReady",
            "message": wording.network_not_ready_event(runtime, paths.conf_dir),
            "runtime_message": wording.sandbox_event(
                wording.setup_not_initialized(runtime, pod, paths.conf_dir)
            ),
            "load_error": selection.message,
            "netns_removed": True,
        }
    network = selection.network
    no_pm: list[Any] | None = None if runtime.startswith("containerd") else []
    caps: dict[str, Any] = {"portMappings": port_mappings or no_pm}
    ns_path = netns.create(os.path.join(paths.netns_dir, netns.new_name()))
    attachments = _attachments(network)
    results: list[dict[str, Any]] = []
    try:
        for net, ifname in attachments:
            results.append(
                libcni.add_network_list(
                    net,
                    _rtconf(pod, ns_path, ifname, caps),
                    list(paths.bin_dirs),
                    paths.cni_cache_dir(runtime),
                    wrap=wording.libcni_wraps(runtime),
                )
            )
    except libcni.CNIError as exc:
        message = wording.sandbox_event(
            wording.add_failure(runtime, pod, network.name, str(exc))
        )
        cleanup = _teardown(paths, runtime, pod, ns_path, attachments, caps)
        if cleanup is None:
            netns.remove(ns_path)
        else:
            log.error(
                "Failed to destroy network for sandbox %s: %s", pod.sandbox_id, cleanup
            )
            state.write_record(
                paths, _record(runtime, pod, ns_path, network, caps, {}, "unknown")
            )
        return {
            "ok": False,
            "reason": "FailedCreatePodSandBox",
            "message": message,
            "netns_removed": cleanup is None,
            "netns": ns_path,
            "elapsed_ms": round((time.monotonic() - start) * 1000, 1),
        }
    except BaseException:  # internal error: leave nothing behind, then report it
        _teardown(paths, runtime, pod, ns_path, attachments, caps)
        netns.remove(ns_path)
        raise
    result = results[-1]
    state.write_record(
        paths, _record(runtime, pod, ns_path, network, caps, result, "ready")
    )
    return {
        "ok": True,
        "sandbox_id": pod.sandbox_id,
        "netns": ns_path,
        "network": network.name,
        "conf_file": network.source,
        "ips": _ips(result),
        "interfaces": result.get("interfaces", []),
        "result": result,
        "elapsed_ms": round((time.monotonic() - start) * 1000, 1),
    }


def delete(
    paths: state.Paths,
    sandbox_id: str,
    runtime: str | None = None,
    del_config: str | None = None,
    force: bool = False,
) -> dict[str, Any]:
    """Tear the pod network down; return the CLI's JSON object."""
    record = state.read_record(paths, sandbox_id)
    if record is None:
        return {"ok": True, "found": False, "netns_removed": False}
    runtime = runtime or record["runtime"]
    meta = record["pod"]
    pod = wording.Pod(sandbox_id, meta["name"], meta["namespace"], meta["uid"])
    mode = del_config or ("cached" if runtime == "crio" else "current")
    error: str | None
    if mode == "cached":
        network = parse_conflist(base64.b64decode(record["config_b64"]))
        error = None
    else:
        selection = paths.load(runtime)
        if isinstance(selection, LoadError):
            network, error = None, wording.teardown_not_initialized(runtime, pod)
        else:
            network, error = selection.network, None
    if network is not None:
        # containerd passes an empty netns path once the netns is gone (e.g. reboot)
        ns_path = record["netns"] if os.path.exists(record["netns"]) else ""
        cni_error = _teardown(
            paths,
            runtime,
            pod,
            ns_path,
            _attachments(network),
            record.get("capability_args") or {},
        )
        if cni_error is not None:
            error = wording.del_failure(runtime, pod, network.name, cni_error)
    if error is None or force:
        removed = netns.remove(record["netns"])
        state.remove_record(paths, sandbox_id)
    else:
        removed = False
    out: dict[str, Any] = {"ok": error is None, "found": True, "netns_removed": removed}
    if error is not None:
        out.update(
            reason="FailedKillPod",
            message=error,
            event_message=wording.kill_event(pod.uid, error),
        )
    return out
