"""flannel CNI plugin: errors, delegate, scratch file (fact: footprint §3)."""

from __future__ import annotations

import io
import json
import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from harness.emulation.flannel.cni_plugin import launcher_script, run

CONF = {
    "cniVersion": "0.3.1",
    "name": "cbr0",
    "type": "flannel",
    "delegate": {"hairpinMode": True, "isDefaultGateway": True},
}
SUBNET_ENV = (
    "FLANNEL_NETWORK=10.244.0.0/16\n"
    "FLANNEL_SUBNET=10.244.1.1/24\n"
    "FLANNEL_MTU=1450\n"
    "FLANNEL_IPMASQ=true\n"
)


def invoke(
    plugin: str, command: str, conf: dict[str, Any], cid: str = "c1", cni_path: str = ""
) -> tuple[int, dict[str, Any] | None]:
    env = {
        "CNI_COMMAND": command,
        "CNI_CONTAINERID": cid,
        "CNI_NETNS": "/var/run/netns/none",
        "CNI_IFNAME": "eth0",
        "CNI_PATH": cni_path or "/nonexistent-cni-path",
    }
    out = io.BytesIO()
    rc = run(plugin, env, json.dumps(conf).encode(), out)
    body = out.getvalue()
    return rc, (json.loads(body) if body else None)


def conf_for(tmp_path: Path, subnet_env: str | None) -> dict[str, Any]:
    path = tmp_path / "subnet.env"
    if subnet_env is not None:
        path.write_text(subnet_env)
    return {**CONF, "subnetFile": str(path), "dataDir": str(tmp_path / "scratch")}


@pytest.mark.parametrize(
    ("plugin", "fmt"),
    [  # fact: flannel-footprint.md §3.4 (missing subnet.env per cni-plugin version)
        ("v1.1.0", "{err}"),
        ("v1.4.0-flannel1", "loadFlannelSubnetEnv failed: {err}"),
        ("v1.7.1-flannel1", "loadFlannelSubnetEnv failed: {err}"),
        (
            "v1.8.0-flannel1",
            "failed to load flannel 'subnet.env' file: {err}. "
            "Check the flannel pod log for this node.",
        ),
    ],
)
def test_add_without_subnet_env(tmp_path: Path, plugin: str, fmt: str) -> None:
    conf = conf_for(tmp_path, None)
    rc, body = invoke(plugin, "ADD", conf)
    assert rc == 1
    assert body is not None
    err = f"open {conf['subnetFile']}: no such file or directory"
    assert body["msg"] == fmt.format(err=err)
    assert body["code"] == 999
    assert not (tmp_path / "scratch").exists()  # nothing saved before the error


def test_add_incomplete_subnet_env(tmp_path: Path) -> None:
    # fact: flannel-footprint.md §3.4 ("%v is missing %v", only absent groups)
    conf = conf_for(tmp_path, "FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_MTU=1450\n")
    rc, body = invoke("v1.7.1-flannel1", "ADD", conf)
    assert rc == 1 and body is not None
    assert body["msg"] == (
        f"loadFlannelSubnetEnv failed: {conf['subnetFile']} is missing "
        "FLANNEL_SUBNET, FLANNEL_IPV6_SUBNET, FLANNEL_IPMASQ"
    )
    rc, body = invoke("v1.7.1-flannel1", "ADD", conf_for(tmp_path, ""))
    assert body is not None
    assert body["msg"].endswith(
        "is missing FLANNEL_NETWORK, FLANNEL_IPV6_NETWORK, FLANNEL_SUBNET, "
        "FLANNEL_IPV6_SUBNET, FLANNEL_MTU, FLANNEL_IPMASQ"
    )


def test_delegate_and_scratch_file(tmp_path: Path) -> None:
    # fact: flannel-footprint.md §3.2 (delegate) and §3.3 (scratch 0600 in 0700)
    conf = conf_for(tmp_path, SUBNET_ENV)
    rc, body = invoke("v1.7.1-flannel1", "ADD", conf, cid="abc123")
    assert rc == 1 and body is not None  # no bridge in CNI_PATH: delegation fails
    assert body["msg"] == (
        'failed to delegate add: failed to find plugin "bridge" in path '
        "[/nonexistent-cni-path]"
    )
    scratch = tmp_path / "scratch" / "abc123"
    assert stat.S_IMODE(scratch.stat().st_mode) == 0o600
    assert stat.S_IMODE(scratch.parent.stat().st_mode) == 0o700
    raw = scratch.read_text()
    assert raw == json.dumps(json.loads(raw), sort_keys=True, separators=(",", ":"))
    assert json.loads(raw) == {
        "cniVersion": "0.3.1",
        "hairpinMode": True,
        "ipMasq": False,  # !FLANNEL_IPMASQ
        "ipam": {
            "ranges": [[{"subnet": "10.244.1.0/24"}]],
            "routes": [{"dst": "10.244.0.0/16"}],
            "type": "host-local",
        },
        "isDefaultGateway": True,
        "isGateway": True,
        "mtu": 1450,
        "name": "cbr0",
        "type": "bridge",
    }


def test_delegate_dual_stack(tmp_path: Path) -> None:
    # fact: flannel-footprint.md §3.2 (v6 range and route)
    env = SUBNET_ENV.replace("FLANNEL_IPMASQ=true", "FLANNEL_IPMASQ=false") + (
        "FLANNEL_IPV6_NETWORK=fd00:10:244::/56\nFLANNEL_IPV6_SUBNET=fd00:10:244:1::1/64\n"
    )
    conf = conf_for(tmp_path, env)
    invoke("v1.7.1-flannel1", "ADD", conf, cid="ds")
    d = json.loads((tmp_path / "scratch" / "ds").read_text())
    assert d["ipMasq"] is True
    assert d["ipam"]["ranges"] == [
        [{"subnet": "10.244.1.0/24"}],
        [{"subnet": "fd00:10:244:1::/64"}],
    ]
    assert d["ipam"]["routes"] == [
        {"dst": "10.244.0.0/16"},
        {"dst": "fd00:10:244::/56"},
    ]


def test_delegate_must_not_have_name(tmp_path: Path) -> None:
    # fact: flannel-footprint.md §3.4 (config validation)
    conf = conf_for(tmp_path, SUBNET_ENV)
    conf["delegate"] = {"name": "x"}
    _, body = invoke("v1.7.1-flannel1", "ADD", conf)
    assert body is not None
    assert body["msg"] == (
        "'delegate' dictionary must not have 'name' field, it'll be set by flannel"
    )


def test_del_missing_scratch_is_success_without_delegate(tmp_path: Path) -> None:
    # fact: flannel-footprint.md §3.3 (missing scratch: success, nothing delegated)
    rc, body = invoke("v1.7.1-flannel1", "DEL", conf_for(tmp_path, None), cid="gone")
    assert (rc, body) == (0, None)


@pytest.mark.parametrize(("plugin", "ok"), [("v1.1.0", False), ("v1.1.2", True)])
def test_del_unparsable_scratch(
    tmp_path: Path, capfd: pytest.CaptureFixture[str], plugin: str, ok: bool
) -> None:
    # fact: flannel-footprint.md §3.3 (#1662: warning + success from v1.1.2)
    conf = conf_for(tmp_path, None)
    os.makedirs(conf["dataDir"])
    Path(conf["dataDir"], "empty").write_text("")
    rc, body = invoke(plugin, "DEL", conf, cid="empty")
    if ok:
        assert (rc, body) == (0, None)
        assert (
            "failed to parse netconf: unexpected end of JSON input"
            in capfd.readouterr().err
        )
        assert not Path(conf["dataDir"], "empty").exists()
    else:
        assert rc == 1 and body is not None
        assert body["msg"] == "failed to parse netconf: unexpected end of JSON input"


def test_version_command() -> None:
    rc, body = invoke("v1.7.1-flannel1", "VERSION", {})
    assert rc == 0 and body is not None
    assert "0.3.1" in body["supportedVersions"]


def test_launcher_runs_with_its_version(tmp_path: Path) -> None:
    # fact: flannel-footprint.md §3.4 (the installed binary decides the wording)
    exe = tmp_path / "flannel"
    exe.write_text(launcher_script("v1.9.1-flannel3"))
    exe.chmod(0o755)
    assert exe.read_text().startswith(f"#!{sys.executable}\n")
    conf = conf_for(tmp_path, None)
    proc = subprocess.run(
        [str(exe)],
        input=json.dumps(conf).encode(),
        env={
            "CNI_COMMAND": "ADD",
            "CNI_CONTAINERID": "x",
            "CNI_NETNS": "/x",
            "CNI_IFNAME": "eth0",
            "CNI_PATH": str(tmp_path),
        },
        capture_output=True,
        timeout=30,
    )
    assert proc.returncode == 1
    assert json.loads(proc.stdout)["msg"].startswith(
        "failed to load flannel 'subnet.env' file: open "
    )
