"""libcni exec protocol, error texts and result cache, with scripted fake plugins."""

from __future__ import annotations

import base64
import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest

from harness.emulation.runtime import cache, libcni
from harness.emulation.runtime.confsel import parse_conflist

CID = "f" * 64
RECORDER = """#!/bin/sh
name=$(basename "$0")
cat > "$LOG/$name-$CNI_COMMAND.stdin"
env | grep '^CNI_' | sort > "$LOG/$name-$CNI_COMMAND.env"
echo "$name $CNI_COMMAND" >> "$LOG/order"
if [ "$CNI_COMMAND" = ADD ]; then
  printf '{"cniVersion":"%s","ips":[{"address":"10.244.1.%s/24"}]}' "$VER" "$name"
fi
"""


def _plugin(bin_dir: Path, name: str, body: str) -> None:
    path = bin_dir / name
    path.write_text(body)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


def _rt(**caps: Any) -> libcni.RuntimeConf:
    return libcni.RuntimeConf(
        CID,
        "/run/netns/cni-x",
        "eth0",
        [("IgnoreUnknown", "1"), ("K8S_POD_NAME", "p")],
        caps,
    )


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "bin").mkdir()
    (tmp_path / "log").mkdir()
    monkeypatch.setenv("LOG", str(tmp_path / "log"))
    return tmp_path


def _netlist(version: str, *plugins: dict[str, Any]) -> Any:
    body = {"name": "cbr0", "cniVersion": version, "plugins": list(plugins)}
    return parse_conflist(json.dumps(body).encode())


@pytest.mark.parametrize("version", ["0.3.1", "0.4.0", "1.0.0"])
def test_add_in_order_del_in_reverse(
    env: Path, version: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VER", version)
    for name in ("1", "2"):
        _plugin(env / "bin", name, RECORDER)
    netlist = _netlist(
        version, {"type": "1"}, {"type": "2", "capabilities": {"portMappings": True}}
    )
    pm = [{"hostPort": 8080, "containerPort": 80, "protocol": "tcp"}]
    rt = _rt(portMappings=pm, bandwidth={"x": 1})
    result = libcni.add_network_list(netlist, rt, [str(env / "bin")], str(env / "c"))
    assert result["ips"] == [{"address": "10.244.1.2/24"}]
    log = env / "log"
    first = json.loads((log / "1-ADD.stdin").read_text())
    assert first == {"cniVersion": version, "name": "cbr0", "type": "1"}
    second = json.loads((log / "2-ADD.stdin").read_text())
    assert second["prevResult"] == {
        "cniVersion": version,
        "ips": [{"address": "10.244.1.1/24"}],
    }
    assert second["runtimeConfig"] == {"portMappings": pm}  # only declared capabilities
    assert (log / "2-ADD.stdin").read_text().startswith('{"capabilities":')  # sorted
    env_lines = (log / "1-ADD.env").read_text().splitlines()
    assert "CNI_ARGS=IgnoreUnknown=1;K8S_POD_NAME=p" in env_lines
    assert f"CNI_CONTAINERID={CID}" in env_lines
    assert "CNI_IFNAME=eth0" in env_lines
    assert "CNI_NETNS=/run/netns/cni-x" in env_lines
    assert f"CNI_PATH={env / 'bin'}" in env_lines

    cached_file = env / "c" / "results" / f"cbr0-{CID}-eth0"
    assert oct(cached_file.stat().st_mode & 0o777) == "0o600"
    cached = json.loads(cached_file.read_text())
    assert list(cached) == [
        "kind", "containerId", "config", "ifName", "networkName",
        "cniArgs", "capabilityArgs", "result",
    ]  # fmt: skip
    assert cached["kind"] == "cniCacheV1"
    assert base64.b64decode(cached["config"]) == netlist.raw
    assert cached["cniArgs"] == [["IgnoreUnknown", "1"], ["K8S_POD_NAME", "p"]]
    assert cached["result"]["ips"] == [{"address": "10.244.1.2/24"}]

    libcni.del_network_list(netlist, rt, [str(env / "bin")], str(env / "c"))
    assert (log / "order").read_text().split("\n")[:4] == [
        "1 ADD",
        "2 ADD",
        "2 DEL",
        "1 DEL",
    ]
    del_stdin = json.loads((log / "1-DEL.stdin").read_text())
    if version == "0.3.1":  # cached result on DEL only from 0.4.0
        assert "prevResult" not in del_stdin
    else:
        assert del_stdin["prevResult"]["ips"] == [{"address": "10.244.1.2/24"}]
    assert not cached_file.exists()


ERR_JSON = (
    '{"cniVersion":"0.3.1","code":11,"msg":"loadFlannelSubnetEnv failed: '
    'open /run/flannel/subnet.env: no such file or directory"}'
)


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        (
            f"#!/bin/sh\necho '{ERR_JSON}'\nexit 1\n",
            "loadFlannelSubnetEnv failed: open /run/flannel/subnet.env: no such file "
            "or directory",
        ),
        (
            '#!/bin/sh\necho \'{"code":7,"msg":"bad","details":"more"}\'\nexit 1\n',
            "bad; more",
        ),
        ("#!/bin/sh\necho oops >&2\nexit 3\n", 'netplugin failed: "oops\\n"'),
        (
            "#!/bin/sh\nexit 2\n",
            "netplugin failed with no error message: exit status 2",
        ),
        (
            "#!/bin/sh\necho 'not json'\nexit 1\n",
            'netplugin failed but error parsing its diagnostic message "not json\\n": '
            "invalid character 'o' in literal null (expecting 'u')",
        ),
    ],
)
def test_plugin_error_texts(env: Path, script: str, expected: str) -> None:
    _plugin(env / "bin", "flannel", script)
    netlist = _netlist("0.3.1", {"type": "flannel"})
    with pytest.raises(libcni.CNIError) as info:
        libcni.add_network_list(netlist, _rt(), [str(env / "bin")], str(env / "c"))
    assert str(info.value) == f'plugin type="flannel" failed (add): {expected}'
    assert not (env / "c" / "results").exists()


def test_unwrapped_for_old_libcni(env: Path) -> None:
    _plugin(env / "bin", "flannel", f"#!/bin/sh\necho '{ERR_JSON}'\nexit 1\n")
    netlist = _netlist("0.3.1", {"type": "flannel"})
    with pytest.raises(libcni.CNIError) as info:
        libcni.add_network_list(
            netlist, _rt(), [str(env / "bin")], str(env / "c"), wrap=False
        )
    assert str(info.value).startswith("loadFlannelSubnetEnv failed: open")


def test_missing_plugin_text(env: Path) -> None:
    # fact: flannel-footprint.md §3.5 (pkg/invoke/find.go wording)
    netlist = _netlist("0.3.1", {"type": "flannel"})
    with pytest.raises(libcni.CNIError) as info:
        libcni.add_network_list(netlist, _rt(), ["/opt/cni/bin"], str(env / "c"))
    assert str(info.value) == (
        'plugin type="flannel" failed (add): failed to find plugin "flannel" in path '
        "[/opt/cni/bin]"
    )
    with pytest.raises(libcni.CNIError) as info:
        libcni.find_in_path("flannel", ["/a", "/b"])
    assert str(info.value) == 'failed to find plugin "flannel" in path [/a /b]'


def test_not_executable_plugin(env: Path) -> None:
    (env / "bin" / "flannel").write_text("#!/bin/sh\n")
    os.chmod(env / "bin" / "flannel", 0o644)
    with pytest.raises(libcni.CNIError) as info:
        libcni.add_network_list(
            _netlist("0.3.1", {"type": "flannel"}), _rt(), [str(env / "bin")], str(env)
        )
    assert str(info.value).endswith(
        f"netplugin failed with no error message: fork/exec {env}/bin/flannel: "
        "permission denied"
    )


def test_corrupt_cache_breaks_del(env: Path) -> None:
    _plugin(env / "bin", "1", RECORDER)
    netlist = _netlist("0.4.0", {"type": "1"})
    path = Path(cache.path_of(str(env / "c"), "cbr0", _rt()))
    path.parent.mkdir(parents=True)
    path.write_text("")
    with pytest.raises(libcni.CNIError) as info:
        libcni.del_network_list(netlist, _rt(), [str(env / "bin")], str(env / "c"))
    assert str(info.value) == (
        'failed to get network "cbr0" cached result: decoding version from network '
        "config: unexpected end of JSON input"
    )
