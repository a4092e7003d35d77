"""Per-version behaviour table (fact: flannel-footprint.md §1.4, §2.1, §2.6, §3.4)."""

from __future__ import annotations

import pytest

from harness.emulation.flannel.versions import (
    Install,
    Shutdown,
    cni_plugin_version,
    flannel_version,
    missing_subnet_env_error,
    parse_version,
)
from harness.matrix import flannel_versions, manifest_path

ERR = "open /run/flannel/subnet.env: no such file or directory"


@pytest.mark.parametrize(
    ("tag", "plugin"),
    [  # fact: flannel-footprint.md §1.4
        ("v0.22.0", "v1.1.2"),
        ("v0.23.0", "v1.2.0"),
        ("v0.24.4", "v1.4.0-flannel1"),
        ("v0.25.3", "v1.4.1-flannel1"),
        ("v0.25.5", "v1.5.1-flannel1"),
        ("v0.26.1", "v1.5.1-flannel2"),
        ("v0.26.3", "v1.6.0-flannel1"),
        ("v0.26.7", "v1.6.2-flannel1"),
        ("v0.27.3", "v1.7.1-flannel1"),
        ("v0.27.4", "v1.8.0-flannel1"),
        ("v0.28.9", "v1.9.1-flannel3"),
    ],
)
def test_cni_plugin_shipped(tag: str, plugin: str) -> None:
    assert flannel_version(tag).cni_plugin == plugin


@pytest.mark.parametrize(
    ("tag", "shutdown"),
    [  # fact: flannel-footprint.md §2.6
        ("v0.22.0", Shutdown.NONE),
        ("v0.24.4", Shutdown.NONE),
        ("v0.25.0", Shutdown.REMOVE_RULES),
        ("v0.26.7", Shutdown.REMOVE_RULES),
        ("v0.27.0", Shutdown.CLEAN_AT_START),
        ("v0.28.9", Shutdown.CLEAN_AT_START),
    ],
)
def test_shutdown_class(tag: str, shutdown: Shutdown) -> None:
    assert flannel_version(tag).shutdown is shutdown


def test_switches() -> None:
    # fact: flannel-footprint.md §1.3, §1.5, §2.1
    v24, v26, v27, v28 = (
        flannel_version(t) for t in ("v0.24.4", "v0.26.7", "v0.27.3", "v0.28.9")
    )
    assert (v24.install, v27.install, v28.install) == (
        Install.CP,
        Install.CP,
        Install.INSTALL_CONF,
    )
    assert flannel_version("v0.28.5").install is Install.CP
    assert flannel_version("v0.28.6").install is Install.INSTALL_CONF
    assert (v24.br_netfilter_check, v26.br_netfilter_check) == (False, True)
    assert (v27.br_netfilter_skip_with_nft, v28.br_netfilter_skip_with_nft) == (
        False,
        True,
    )
    assert (v24.nftables, v26.nftables) == (False, True)
    assert (v24.clustercidrs_rbac, v26.clustercidrs_rbac) == (True, False)
    assert (
        v27.cont_when_cache_not_ready_env,
        flannel_version("v0.27.4").cont_when_cache_not_ready_env,
    ) == (False, True)
    assert (v24.registry, v26.registry) == ("docker.io/flannel", "ghcr.io/flannel-io")
    assert flannel_version("v0.26.3").registry == "docker.io/flannel"


@pytest.mark.parametrize(
    ("plugin", "expected"),
    [  # fact: flannel-footprint.md §3.4 (exact strings per cni-plugin version)
        ("v1.1.0", ERR),
        ("v1.1.2", "loadFlannelSubnetEnv failed: " + ERR),
        ("v1.4.0-flannel1", "loadFlannelSubnetEnv failed: " + ERR),
        ("v1.7.1-flannel1", "loadFlannelSubnetEnv failed: " + ERR),
        (
            "v1.7.1-flannel2",
            "failed to load flannel 'subnet.env' file: "
            + ERR
            + ". Check the flannel pod log for this node.",
        ),
        (
            "v1.9.1-flannel3",
            "failed to load flannel 'subnet.env' file: "
            + ERR
            + ". Check the flannel pod log for this node.",
        ),
    ],
)
def test_missing_subnet_env_wording(plugin: str, expected: str) -> None:
    assert missing_subnet_env_error(plugin, ERR) == expected


def test_bad_scratch_warning_from_v112() -> None:
    # fact: flannel-footprint.md §3.3 (#1662; v1.1.2 made it a warning)
    assert not cni_plugin_version("v1.1.0").bad_scratch_is_warning
    assert cni_plugin_version("v1.1.2").bad_scratch_is_warning


def test_parse_version_orders_flannel_builds() -> None:
    assert parse_version("v1.7.1-flannel1") < parse_version("v1.7.1-flannel2")
    with pytest.raises(ValueError):
        parse_version("latest")


@pytest.mark.parametrize(
    ("tag", "expected"),
    [  # fact: flannel-footprint.md §3.4 (manifests v0.22.0-v0.27.3 vs v0.27.4+)
        ("v0.24.4", "loadFlannelSubnetEnv failed: " + ERR),
        ("v0.26.7", "loadFlannelSubnetEnv failed: " + ERR),
        ("v0.27.3", "loadFlannelSubnetEnv failed: " + ERR),
        (
            "v0.28.9",
            "failed to load flannel 'subnet.env' file: "
            + ERR
            + ". Check the flannel pod log for this node.",
        ),
    ],
)
def test_fixture_versions_error_after_uninstall(tag: str, expected: str) -> None:
    v = flannel_version(tag)
    assert v.subnet_env_missing_error == expected
    assert manifest_path(tag).is_file()
    assert tag in flannel_versions()
