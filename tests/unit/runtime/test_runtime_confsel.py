"""Golden tests: which CNI config each runtime picks from /etc/cni/net.d."""

from __future__ import annotations

import json

import pytest

from harness.emulation.runtime import confsel
from harness.emulation.runtime.confsel import LoadError, Selected
from harness.flannel_install import cni_conf

FLANNEL = json.dumps(cni_conf()).encode()  # the manifest's cni-conf.json (§1.2)
KUBEROUTER = json.dumps(
    {"name": "kubernetes", "cniVersion": "0.3.0", "plugins": [{"type": "bridge"}]}
).encode()
SINGLE = json.dumps({"name": "mynet", "cniVersion": "0.4.0", "type": "bridge"}).encode()
CONTAINERDS = ("containerd-1.5", "containerd-1.6", "containerd-1.7")


def _pick(listing: list[tuple[str, bytes | None]], runtime: str) -> Selected:
    got = confsel.select_network(listing, runtime)
    assert isinstance(got, Selected), got
    return got


@pytest.mark.parametrize("runtime", confsel.RUNTIMES)
def test_first_sorted_valid_file_wins(runtime: str) -> None:
    # fact: harness-anchors.md §5 and flannel-footprint.md §3.5: a leftover
    # 10-flannel.conflist shadows 10-kuberouter.conflist
    listing = [("10-kuberouter.conflist", KUBEROUTER), ("10-flannel.conflist", FLANNEL)]
    got = _pick(listing, runtime)
    assert got.network.name == "cbr0"
    assert got.network.source == "10-flannel.conflist"
    assert [p["type"] for p in got.network.plugins] == ["flannel", "portmap"]


@pytest.mark.parametrize("runtime", confsel.RUNTIMES)
def test_other_extensions_ignored(runtime: str) -> None:
    listing = [
        ("00-a.conflist.bak", b"{"),
        ("README", b"x"),
        ("20-x.conflist", KUBEROUTER),
    ]
    assert _pick(listing, runtime).network.source == "20-x.conflist"


@pytest.mark.parametrize("runtime", CONTAINERDS)
def test_containerd_invalid_first_breaks_whole_load(runtime: str) -> None:
    # fact: harness-anchors.md §5 (go-cni returns an error on the first file that fails)
    listing = [
        ("00-broken.conflist", b'{"name": "x", '),
        ("10-flannel.conflist", FLANNEL),
    ]
    got = confsel.select_network(listing, runtime)
    assert isinstance(got, LoadError)
    assert got.message == (
        "failed to load CNI config list file /etc/cni/net.d/00-broken.conflist: error "
        "parsing configuration list: unexpected end of JSON input: invalid cni config"
    )


@pytest.mark.parametrize("runtime", ["crio", "dockershim"])
def test_ocicni_and_dockershim_skip_invalid(runtime: str) -> None:
    # fact: harness-anchors.md §5 (CRI-O's ocicni and dockershim log and skip)
    listing = [("00-broken.conflist", b"garbage"), ("10-flannel.conflist", FLANNEL)]
    got = _pick(listing, runtime)
    assert got.network.name == "cbr0"
    assert got.skipped[0][0] == "00-broken.conflist"
    assert "invalid character 'g' looking for beginning of value" in got.skipped[0][1]


@pytest.mark.parametrize("runtime", CONTAINERDS)
def test_valid_first_hides_later_invalid(runtime: str) -> None:
    # files after the first valid one are never read
    listing = [("10-flannel.conflist", FLANNEL), ("99-broken.conflist", b"{")]
    assert _pick(listing, runtime).network.name == "cbr0"


def test_empty_dir_not_initialized() -> None:
    got = confsel.select_network([], "containerd-1.7")
    assert isinstance(got, LoadError)
    assert got.load_status == (
        "cni config load failed: no network config found in /etc/cni/net.d: cni plugin "
        "not initialized: failed to load cni config"
    )
    assert (
        got.message
        == "no network config found in /etc/cni/net.d: cni plugin not initialized"
    )


def test_single_conf_converted_to_list() -> None:
    got = _pick([("10-mynet.conf", SINGLE)], "containerd-1.7").network
    assert (got.name, got.cni_version, len(got.plugins)) == ("mynet", "0.4.0", 1)
    assert json.loads(got.raw) == {
        "cniVersion": "0.4.0",
        "name": "mynet",
        "plugins": [{"cniVersion": "0.4.0", "name": "mynet", "type": "bridge"}],
    }
    # Go json.Marshal of a map: sorted keys, compact
    assert got.raw.startswith(b'{"cniVersion":"0.4.0","name":"mynet","plugins":[{')


def test_conf_without_type_is_invalid_for_containerd() -> None:
    # a conflist saved as .conf has no top-level type
    listing = [("10-flannel.conf", FLANNEL), ("20-x.conflist", KUBEROUTER)]
    got = confsel.select_network(listing, "containerd-1.7")
    assert isinstance(got, LoadError)
    assert got.message == (
        "failed to load CNI config file /etc/cni/net.d/10-flannel.conf: error parsing "
        "configuration: missing 'type': invalid cni config"
    )
    assert _pick(listing, "crio").network.name == "kubernetes"


@pytest.mark.parametrize(
    ("content", "error"),
    [
        (
            b'{"name":"x","plugins":[]}',
            "error parsing configuration list: no plugins in list",
        ),
        (b'{"name":"x"}', "error parsing configuration list: no 'plugins' key"),
        (
            b'{"plugins":[{"type":"bridge"}]}',
            "error parsing configuration list: no name",
        ),
        (
            b'{"name":"x","plugins":[{"type":""}]}',
            "failed to parse plugin config 0: "
            "error parsing configuration: missing 'type'",
        ),
        (b"", "error parsing configuration list: unexpected end of JSON input"),
    ],
)
def test_conflist_errors(content: bytes, error: str) -> None:
    got = confsel.select_network([("10-x.conflist", content)], "containerd-1.7")
    assert isinstance(got, LoadError)
    assert got.message == (
        f"failed to load CNI config list file /etc/cni/net.d/10-x.conflist: {error}: "
        "invalid cni config"
    )


def test_unreadable_file() -> None:
    got = confsel.select_network([("10-x.conflist", None)], "containerd-1.7")
    assert isinstance(got, LoadError)
    assert "open /etc/cni/net.d/10-x.conflist: no such file or directory" in got.message


@pytest.mark.parametrize("runtime", ["crio", "dockershim"])
def test_ocicni_skips_list_with_missing_plugin(runtime: str) -> None:
    listing = [("10-flannel.conflist", FLANNEL), ("20-x.conflist", KUBEROUTER)]
    got = confsel.select_network(
        listing, runtime, plugin_available=lambda name: name != "flannel"
    )
    assert isinstance(got, Selected)
    assert got.network.name == "kubernetes"
    assert got.skipped == [("10-flannel.conflist", 'failed to find plugin "flannel"')]


def test_containerd_does_not_check_plugins_at_load() -> None:
    got = confsel.select_network(
        [("10-flannel.conflist", FLANNEL)],
        "containerd-1.7",
        plugin_available=lambda _: False,
    )
    assert isinstance(got, Selected)


def test_only_invalid_files_crio() -> None:
    got = confsel.select_network([("10-x.conflist", b"{")], "crio")
    assert isinstance(got, LoadError)
    assert got.skipped and got.message == "no valid networks found in /etc/cni/net.d"
