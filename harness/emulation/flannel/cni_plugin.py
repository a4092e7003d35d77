"""The flannel CNI plugin as a Python program (test emulation; flannel-footprint.md §3).

Installed in a node as ``/opt/cni/bin/flannel``, a launcher written by the
``install-cni-plugin`` init container (:func:`launcher_script`) that calls
``main(plugin_version=...)`` so that the error wording follows the installed plugin
version. Protocol: ``CNI_COMMAND``/``CNI_CONTAINERID``/``CNI_NETNS``/``CNI_IFNAME``/
``CNI_PATH`` in the environment, the network config on stdin, the result (or an error
object, exit code 1) on stdout. ADD builds the bridge delegate from subnet.env (§3.2),
saves the scratch file (§3.3) and execs the **real** ``bridge`` plugin from CNI_PATH.
"""

from __future__ import annotations

import ipaddress
import json
import os
import sys
from typing import IO, Any

from harness.emulation.flannel.cni_delegate import delegate, go_marshal
from harness.emulation.flannel.cni_errors import (
    ERR_INVALID_ENV,
    PluginError,
    go_json_error,
    go_os_error,
)
from harness.emulation.flannel.versions import CNIPluginVersion, cni_plugin_version

DEFAULT_SUBNET_FILE = "/run/flannel/subnet.env"  # §3.1
DEFAULT_DATA_DIR = "/var/lib/cni/flannel"  # §3.1
SUPPORTED_VERSIONS = ["0.1.0", "0.2.0", "0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"]


def load_subnet_env(path: str) -> dict[str, Any]:
    """``loadFlannelSubnetEnv``: parse, then refuse missing groups (§3.4)."""
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError as e:
        raise PluginError(go_os_error("open", path, e)) from e
    env: dict[str, Any] = {}
    for line in text.splitlines():
        key, _, value = line.partition("=")
        try:
            if key == "FLANNEL_NETWORK":
                env["nws"] = [
                    ipaddress.ip_network(c, strict=False) for c in value.split(",")
                ]
            elif key == "FLANNEL_SUBNET":
                env["sn"] = ipaddress.ip_network(value, strict=False)
            elif key == "FLANNEL_IPV6_NETWORK":
                env["ip6nw"] = ipaddress.ip_network(value, strict=False)
            elif key == "FLANNEL_IPV6_SUBNET":
                env["ip6sn"] = ipaddress.ip_network(value, strict=False)
            elif key == "FLANNEL_MTU":
                env["mtu"] = int(value)
            elif key == "FLANNEL_IPMASQ":
                env["ipmasq"] = value == "true"
        except ValueError as e:
            raise PluginError(f"invalid CIDR address: {value}") from e
    missing: list[str] = []
    if not env.get("nws") and "ip6nw" not in env:
        missing += ["FLANNEL_NETWORK", "FLANNEL_IPV6_NETWORK"]
    if "sn" not in env and "ip6sn" not in env:
        missing += ["FLANNEL_SUBNET", "FLANNEL_IPV6_SUBNET"]
    if "mtu" not in env:
        missing.append("FLANNEL_MTU")
    if "ipmasq" not in env:
        missing.append("FLANNEL_IPMASQ")
    if missing:
        raise PluginError(f"{path} is missing {', '.join(missing)}")
    return env


def build_delegate(conf: dict[str, Any], fenv: dict[str, Any]) -> dict[str, Any]:
    """``doCmdAdd`` + ``getDelegateIPAM`` (§3.2)."""
    d: dict[str, Any] = dict(conf.get("delegate") or {})
    if "runtimeConfig" in conf:
        d["runtimeConfig"] = conf["runtimeConfig"]
    d["name"] = conf.get("name", "")
    d.setdefault("type", "bridge")
    d.setdefault("ipMasq", not fenv["ipmasq"])
    d.setdefault("mtu", fenv["mtu"])
    if d["type"] == "bridge":
        d.setdefault("isGateway", True)
    if conf.get("cniVersion"):
        d["cniVersion"] = conf["cniVersion"]
    ipam: dict[str, Any] = dict(conf.get("ipam") or {})
    ipam.setdefault("type", "host-local")
    ranges = []
    if "sn" in fenv:
        ranges.append([{"subnet": str(fenv["sn"])}])
    if "ip6sn" in fenv:
        ranges.append([{"subnet": str(fenv["ip6sn"])}])
    ipam["ranges"] = ranges
    routes = list(ipam.get("routes") or [])
    routes += [{"dst": str(nw)} for nw in fenv.get("nws", [])]
    if "ip6nw" in fenv:
        routes.append({"dst": str(fenv["ip6nw"])})
    ipam["routes"] = routes
    d["ipam"] = ipam
    return d


def _load_conf(stdin: bytes, pv: CNIPluginVersion) -> dict[str, Any]:
    text = stdin.decode(errors="replace")
    try:
        conf = json.loads(text)
        if not isinstance(conf, dict):
            raise ValueError
    except ValueError as e:
        raise PluginError(pv.netconf_format.format(err=go_json_error(text))) from e
    d = conf.get("delegate")
    if isinstance(d, dict):
        if "type" in d and not isinstance(d["type"], str):
            raise PluginError("'delegate' dictionary 'type' field must be a string")
        for key in ("name", "ipam"):
            if key in d:
                raise PluginError(
                    f"'delegate' dictionary must not have '{key}' field, "
                    "it'll be set by flannel"
                )
    return conf


def cmd_add(conf: dict[str, Any], env: dict[str, str], pv: CNIPluginVersion) -> bytes:
    """ADD: subnet.env -> delegate -> scratch file -> real bridge (§3.2, §3.3)."""
    try:
        fenv = load_subnet_env(conf.get("subnetFile") or DEFAULT_SUBNET_FILE)
    except PluginError as e:
        raise PluginError(pv.subnet_env_format.format(err=e)) from e
    d = build_delegate(conf, fenv)
    raw = go_marshal(d)
    data_dir = conf.get("dataDir") or DEFAULT_DATA_DIR
    os.makedirs(data_dir, mode=0o700, exist_ok=True)
    path = os.path.join(data_dir, env["CNI_CONTAINERID"])
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(raw)
    try:
        return delegate("ADD", raw, env)
    except PluginError as e:
        raise PluginError(f"failed to delegate add: {e}") from e


def cmd_del(conf: dict[str, Any], env: dict[str, str], pv: CNIPluginVersion) -> None:
    """DEL: scratch file -> delegate DEL; missing file = success, no delegate (§3.3)."""
    data_dir = conf.get("dataDir") or DEFAULT_DATA_DIR
    path = os.path.join(data_dir, env.get("CNI_CONTAINERID", ""))
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except FileNotFoundError:
        return  # "Per spec should ignore error if resources are missing" (the leak)
    text = raw.decode(errors="replace")
    try:
        json.loads(text)
    except ValueError:
        msg = f"failed to parse netconf: {go_json_error(text)}"
        if not pv.bad_scratch_is_warning:
            raise PluginError(msg) from None
        sys.stderr.write(msg)
        os.unlink(path)
        return
    try:
        delegate("DEL", raw, env)
    finally:
        # §3.3 (inferred): the deferred cleanup captured the earlier nil err
        os.unlink(path)


def _emit_error(out: IO[bytes], e: PluginError, cni_version: str) -> int:
    body = {"cniVersion": cni_version, "code": e.code, "msg": str(e)}
    out.write(json.dumps(body, indent=4).encode() + b"\n")
    return 1


def run(plugin_version: str, env: dict[str, str], stdin: bytes, out: IO[bytes]) -> int:
    """One plugin invocation; returns the exit code."""
    pv = cni_plugin_version(plugin_version)
    command = env.get("CNI_COMMAND", "")
    if command == "VERSION":
        info = {"cniVersion": "1.0.0", "supportedVersions": SUPPORTED_VERSIONS}
        out.write(json.dumps(info).encode() + b"\n")
        return 0
    cni_version = "0.3.1"
    try:
        if command not in ("ADD", "DEL", "CHECK"):
            raise PluginError(f"unknown CNI_COMMAND: {command}", ERR_INVALID_ENV)
        needed = ["CNI_CONTAINERID", "CNI_IFNAME", "CNI_PATH"]
        if command != "DEL":
            needed.insert(1, "CNI_NETNS")
        if missing := [k for k in needed if not env.get(k)]:
            raise PluginError(
                f"required env variables [{','.join(missing)}] missing",
                ERR_INVALID_ENV,
            )
        conf = _load_conf(stdin, pv)
        cni_version = str(conf.get("cniVersion") or cni_version)
        if command == "ADD":
            out.write(cmd_add(conf, env, pv))
        elif command == "DEL":
            cmd_del(conf, env, pv)
        return 0  # CHECK: flannel's cmdCheck does nothing
    except PluginError as e:
        return _emit_error(out, e, cni_version)


def main(plugin_version: str) -> int:
    """Process entry point used by the installed launcher."""
    out = sys.stdout.buffer
    code = run(plugin_version, dict(os.environ), sys.stdin.buffer.read(), out)
    out.flush()
    return code


def launcher_script(plugin_version: str, python: str | None = None) -> str:
    """The ``/opt/cni/bin/flannel`` launcher for ``plugin_version``."""
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(__file__))))
    return (
        f"#!{python or sys.executable}\n"
        f'"""flannel CNI plugin {plugin_version} (cniscrub test emulation)."""\n'
        "import sys\n"
        f"sys.path.insert(0, {root!r})\n"
        "from harness.emulation.flannel.cni_plugin import main\n"
        f"sys.exit(main(plugin_version={plugin_version!r}))\n"
    )


def install_launcher(path: str, plugin_version: str) -> None:
    """Write the launcher like ``cp -f /flannel <path>`` (mode 0755)."""
    tmp_data = launcher_script(plugin_version).encode()
    with open(path, "wb") as f:  # cp -f truncates in place
        f.write(tmp_data)
    os.chmod(path, 0o755)
