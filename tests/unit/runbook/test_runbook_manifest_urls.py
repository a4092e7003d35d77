"""Manifest URLs map to the pinned fixture of that file and version; anything else is a
clear error (the runner reports it as a failed step), never a silent substitute."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.matrix import MANIFESTS, flannel_versions
from harness.runbook.manifests import ManifestUnavailable, pinned, resolve

NEWEST = flannel_versions()[-1]
OLDEST = flannel_versions()[0]


GH = "https://github.com/flannel-io/flannel"
RAW = "https://raw.githubusercontent.com/{org}/flannel/{ref}/Documentation/kube-flannel.yml"


@pytest.mark.parametrize(
    ("url", "version"),
    [
        (f"{GH}/releases/download/{OLDEST}/kube-flannel.yml", OLDEST),
        (f"{GH}/releases/latest/download/kube-flannel.yml", NEWEST),
        (RAW.format(org="flannel-io", ref="master"), NEWEST),
        (RAW.format(org="coreos", ref=OLDEST), OLDEST),
        (RAW.format(org="flannel-io", ref=f"refs/tags/{OLDEST}"), OLDEST),
        (f"{GH}/blob/{OLDEST}/Documentation/kube-flannel.yml?raw=true", OLDEST),
    ],
)
def test_flannel_urls_map_to_the_pinned_fixture(url: str, version: str) -> None:
    assert resolve(url) == MANIFESTS / f"kube-flannel-{version}.yml"


def test_a_version_without_a_fixture_is_an_error_listing_the_pinned_ones() -> None:
    url = "https://github.com/flannel-io/flannel/releases/download/v0.19.1/kube-flannel.yml"
    with pytest.raises(ManifestUnavailable) as exc:
        resolve(url)
    assert "v0.19.1" in str(exc.value) and NEWEST in str(exc.value)


def test_an_unknown_url_is_an_error_that_says_there_is_no_network() -> None:
    with pytest.raises(ManifestUnavailable, match="no network"):
        resolve("https://example.com/my-cni.yaml")


def test_kube_router_urls_map_to_its_fixtures() -> None:
    url = "https://raw.githubusercontent.com/cloudnativelabs/kube-router/{}/daemonset/kubeadm-kuberouter.yaml"
    have = pinned("kube-router")
    if not have:
        with pytest.raises(ManifestUnavailable, match="pinned: none"):
            resolve(url.format("master"))
        return
    assert resolve(url.format("master")) == MANIFESTS / f"kube-router-{have[-1]}.yml"
    assert resolve(url.format(have[0])) == MANIFESTS / f"kube-router-{have[0]}.yml"


def test_names_and_local_paths(tmp_path: Path) -> None:
    assert resolve("flannel") == MANIFESTS / f"kube-flannel-{NEWEST}.yml"
    assert resolve(f"flannel@{OLDEST}") == MANIFESTS / f"kube-flannel-{OLDEST}.yml"
    mine = tmp_path / "mine.yml"
    mine.write_text("{}")
    assert resolve("mine.yml", base=tmp_path) == mine
    with pytest.raises(ManifestUnavailable, match="no such file"):
        resolve("missing.yml", base=tmp_path)
