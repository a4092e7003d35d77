"""A Python copy of libcni's plugin-list execution (test emulation only).

fact: harness-anchors.md §5 "libcni exec protocol": for each plugin find ``type`` in
CNI_PATH, build stdin from the entry plus the list's ``name``/``cniVersion``,
``prevResult`` and ``runtimeConfig`` (declared capabilities only), exec with
CNI_COMMAND, CNI_CONTAINERID, CNI_NETNS, CNI_ARGS, CNI_IFNAME, CNI_PATH; ADD in order,
DEL in reverse.
fact: flannel-footprint.md §3.5 (``plugin type="X" failed (add): …`` from libcni ≥ v1.0,
absent in v0.8.x) and §4 (cache ``<cacheDir>/results/<net>-<id>-<ifname>``,
``"kind":"cniCacheV1"``). Error text of plugin failures follows libcni
``pkg/invoke/raw_exec.go`` and ``types.Error`` (``msg`` + ``"; " + details``).
"""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import time
from dataclasses import dataclass, field
from typing import Any

from harness.emulation.runtime import cache
from harness.emulation.runtime.confsel import NetworkList
from harness.emulation.runtime.gofmt import go_json_error, go_marshal, go_quote

__all__ = [
    "CNIError",
    "RuntimeConf",
    "add_network_list",
    "del_network_list",
    "find_in_path",
]

log = logging.getLogger(__name__)

PLUGIN_TIMEOUT_S = 120.0
_CONTAINER_ID = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.\-]*$")


class CNIError(Exception):
    """A libcni error; ``str()`` is exactly what libcni's ``Error()`` returns."""


@dataclass
class RuntimeConf:
    """libcni ``RuntimeConf``: what the runtime passes for one attachment."""

    container_id: str
    netns: str
    ifname: str
    args: list[tuple[str, str]] = field(default_factory=list)
    capability_args: dict[str, Any] = field(default_factory=dict)


def find_in_path(plugin: str, paths: list[str]) -> str:
    """libcni ``invoke.FindInPath``: first regular file named ``plugin``."""
    if not plugin:
        raise CNIError("no plugin name provided")
    if "/" in plugin:
        raise CNIError(f"invalid plugin name: {plugin}")
    if not paths:
        raise CNIError("no paths provided")
    for directory in paths:
        full = os.path.join(directory, plugin)
        if os.path.isfile(full):
            return full
    raise CNIError(
        f"failed to find plugin {go_quote(plugin)} in path [{' '.join(paths)}]"
    )


def _plugin_error(exit_text: str, stdout: bytes, stderr: bytes) -> CNIError:
    """libcni ``RawExec.pluginErr``."""
    if not stdout:
        if not stderr:
            return CNIError(f"netplugin failed with no error message: {exit_text}")
        return CNIError(
            f"netplugin failed: {go_quote(stderr.decode(errors='replace'))}"
        )
    problem = go_json_error(stdout)
    if problem is None:
        parsed = json.loads(stdout)
        if isinstance(parsed, dict):
            msg = str(parsed.get("msg", ""))
            details = str(parsed.get("details", "") or "")
            return CNIError(f"{msg}; {details}" if details else msg)
        problem = "json: cannot unmarshal value into Go value of type types.Error"
    text = stdout.decode(errors="replace")
    return CNIError(
        f"netplugin failed but error parsing its diagnostic message {go_quote(text)}: "
        f"{problem}"
    )


def _exit_text(returncode: int) -> str:
    if returncode < 0:
        return f"signal: {_SIGNAL_NAMES.get(-returncode, f'signal {-returncode}')}"
    return f"exit status {returncode}"


_SIGNAL_NAMES = {9: "killed", 15: "terminated", 6: "aborted", 11: "segmentation fault"}


def exec_plugin(path: str, stdin: bytes, env: dict[str, str]) -> bytes:
    """Run one plugin; return stdout or raise the libcni error."""
    started = time.monotonic()
    try:
        proc = subprocess.run(
            [path], input=stdin, env=env, capture_output=True,
            timeout=PLUGIN_TIMEOUT_S, check=False,
        )  # fmt: skip
    except subprocess.TimeoutExpired as exc:
        raise _plugin_error(
            "signal: killed", exc.stdout or b"", exc.stderr or b""
        ) from None
    except OSError as exc:
        reason = (exc.strerror or str(exc)).lower()
        raise CNIError(
            f"netplugin failed with no error message: fork/exec {path}: {reason}"
        ) from None
    elapsed = (time.monotonic() - started) * 1000
    log.debug(
        "%s %s: exit %s in %.1f ms",
        path,
        env.get("CNI_COMMAND"),
        proc.returncode,
        elapsed,
    )
    log.debug("plugin %s stderr: %s", path, proc.stderr.decode(errors="replace"))
    if proc.returncode != 0:
        raise _plugin_error(_exit_text(proc.returncode), proc.stdout, proc.stderr)
    return proc.stdout


def _env(command: str, rt: RuntimeConf, paths: list[str]) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        CNI_COMMAND=command,
        CNI_CONTAINERID=rt.container_id,
        CNI_NETNS=rt.netns,
        CNI_ARGS=";".join(f"{k}={v}" for k, v in rt.args),
        CNI_IFNAME=rt.ifname,
        CNI_PATH=":".join(paths),
    )
    return env


def build_stdin(
    netlist: NetworkList, plugin: dict[str, Any], prev: Any, rt: RuntimeConf
) -> bytes:
    """libcni ``buildOneConfig`` + ``injectRuntimeConfig`` (Go map order: sorted)."""
    conf = dict(plugin)
    conf["name"] = netlist.name
    conf["cniVersion"] = netlist.cni_version
    if prev is not None:
        conf["prevResult"] = prev
    caps = plugin.get("capabilities") or {}
    runtime_config = {
        cap: rt.capability_args[cap]
        for cap, enabled in sorted(caps.items())
        if enabled and cap in rt.capability_args
    }
    if runtime_config:
        conf["runtimeConfig"] = runtime_config
    return go_marshal(conf)


def _describe(plugin: dict[str, Any]) -> str:
    """libcni ``pluginDescription``."""
    out = f"type={go_quote(str(plugin.get('type', '')))}"
    if plugin.get("name"):
        out += f" name={go_quote(str(plugin['name']))}"
    return out


def _version_ge(version: str, floor: tuple[int, ...]) -> bool:
    try:
        parts = tuple(int(p) for p in version.split("."))
    except ValueError:
        return False
    return parts >= floor


def add_network_list(
    netlist: NetworkList,
    rt: RuntimeConf,
    paths: list[str],
    cache_dir: str,
    *,
    wrap: bool = True,
) -> dict[str, Any]:
    """libcni ``AddNetworkList``: ADD each plugin in order, then cache the result.

    ``wrap`` False gives libcni v0.8.x errors (no ``plugin type=… failed (add):``).
    """
    if not _CONTAINER_ID.match(rt.container_id):
        raise CNIError("invalid characters in containerID")
    result: Any = None
    for plugin in netlist.plugins:
        try:
            binary = find_in_path(str(plugin.get("type", "")), paths)
            stdin = build_stdin(netlist, plugin, result, rt)
            out = exec_plugin(binary, stdin, _env("ADD", rt, paths))
            problem = go_json_error(out)
            if problem is not None:
                raise CNIError(f"decoding version from network config: {problem}")
            result = json.loads(out)
        except CNIError as exc:
            if wrap:
                raise CNIError(
                    f"plugin {_describe(plugin)} failed (add): {exc}"
                ) from None
            raise
    cache.add(cache_dir, netlist, rt, result)
    return result if isinstance(result, dict) else {}


def del_network_list(
    netlist: NetworkList,
    rt: RuntimeConf,
    paths: list[str],
    cache_dir: str,
    *,
    wrap: bool = True,
) -> None:
    """libcni ``DelNetworkList``: DEL in reverse with the cached prevResult."""
    prev: Any = None
    if _version_ge(netlist.cni_version, (0, 4, 0)):
        try:
            prev = cache.result(cache_dir, netlist.name, rt)
        except cache.CacheError as exc:
            raise CNIError(
                f"failed to get network {go_quote(netlist.name)} cached result: {exc}"
            ) from None
    for plugin in reversed(netlist.plugins):
        try:
            binary = find_in_path(str(plugin.get("type", "")), paths)
            stdin = build_stdin(netlist, plugin, prev, rt)
            exec_plugin(binary, stdin, _env("DEL", rt, paths))
        except CNIError as exc:
            if wrap:
                raise CNIError(
                    f"plugin {_describe(plugin)} failed (delete): {exc}"
                ) from None
            raise
    cache.remove(cache_dir, netlist.name, rt)
