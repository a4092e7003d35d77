"""Image handlers: init containers, unknown argv (fact: flannel-footprint.md §1.3)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from harness.emulation.flannel.image import (
    FlannelCNIPluginImage,
    FlannelImage,
    install_conf,
)
from harness.emulation.images.base import ContainerContext


def ctx(image: str) -> ContainerContext:
    return ContainerContext(
        image=image,
        node_name="n1",
        pod_name="kube-flannel-ds-x",
        pod_namespace="kube-flannel",
        pod_uid="u",
        container_name="c",
        init=True,
    )


def test_cni_plugin_image_installs_launcher_for_its_tag(tmp_path: Path) -> None:
    # fact: flannel-footprint.md §1.3 (cp -f /flannel /opt/cni/bin/flannel), §3.4
    dst = tmp_path / "flannel"
    dst.write_text("old binary")
    img = "ghcr.io/flannel-io/flannel-cni-plugin:v1.6.2-flannel1"
    rc = FlannelCNIPluginImage().run(["cp", "-f", "/flannel", str(dst)], ctx(img))
    assert rc == 0
    assert os.access(dst, os.X_OK)
    assert 'main(plugin_version="v1.6.2-flannel1")' in dst.read_text().replace("'", '"')


def test_cp_conflist(tmp_path: Path) -> None:
    # fact: flannel-footprint.md §1.3 (install-cni cp -f up to v0.28.5)
    src, dst = tmp_path / "cni-conf.json", tmp_path / "10-flannel.conflist"
    src.write_text('{"name": "cbr0"}')
    rc = FlannelImage().run(
        ["cp", "-f", str(src), str(dst)], ctx("ghcr.io/flannel-io/flannel:v0.27.3")
    )
    assert rc == 0 and dst.read_text() == '{"name": "cbr0"}'


def test_install_conf_atomic(tmp_path: Path) -> None:
    # fact: flannel-footprint.md §1.3 (install-conf: .10-flannel.conflist.tmp* + rename)
    src, netd = tmp_path / "cni-conf.json", tmp_path / "net.d"
    src.write_text("new")
    netd.mkdir()
    (netd / "10-flannel.conflist").write_text("old")
    ino_before = (netd / "10-flannel.conflist").stat().st_ino
    rc = FlannelImage().run(
        ["/opt/bin/install-conf", str(src), str(netd / "10-flannel.conflist")],
        ctx("ghcr.io/flannel-io/flannel:v0.28.9"),
    )
    assert rc == 0
    assert os.listdir(netd) == ["10-flannel.conflist"]
    assert (netd / "10-flannel.conflist").read_text() == "new"
    assert (netd / "10-flannel.conflist").stat().st_ino != ino_before  # renamed in
    assert install_conf(str(tmp_path / "nope"), str(netd / "x")) == 1


@pytest.mark.parametrize("argv", [["sh", "-c", "true"], [], ["/opt/bin/flanneld2"]])
def test_unknown_argv_exits_127(
    argv: list[str], capfd: pytest.CaptureFixture[str]
) -> None:
    assert FlannelImage().run(argv, ctx("ghcr.io/flannel-io/flannel:v0.27.3")) == 127
    assert "not emulated" in capfd.readouterr().err
    plugin = ctx("ghcr.io/flannel-io/flannel-cni-plugin:v1.7.1-flannel1")
    assert FlannelCNIPluginImage().run(argv, plugin) == 127
