"""Image handlers for ``flannel`` and ``flannel-cni-plugin`` (test emulation).

Registered in :data:`harness.emulation.images.IMAGES`. Each understands exactly the
commands the kube-flannel manifests use (flannel-footprint.md §1.3); anything else exits
127 with a message, like a missing executable in a real image.

>>> FlannelImage.classify(["cp", "-f", "/etc/kube-flannel/cni-conf.json", "/x"])
'cp'
"""

from __future__ import annotations

import logging
import os
import shutil
import sys
import tempfile

from harness.emulation.flannel import cni_plugin
from harness.emulation.flannel.versions import (
    LATEST_CNI_PLUGIN,
    LATEST_FLANNEL,
    known_tag,
)
from harness.emulation.images import tag
from harness.emulation.images.base import ContainerContext

log = logging.getLogger(__name__)

EXIT_NOT_FOUND = 127


def _unknown(argv: list[str], image: str) -> int:
    sys.stderr.write(
        f"exec: {argv[0] if argv else ''!r}: not emulated in image {image} "
        f"(argv {argv!r})\n"
    )
    return EXIT_NOT_FOUND


def _cp_f(src: str, dst: str) -> int:
    """``cp -f SRC DST``: copy over DST in place (not atomic)."""
    try:
        if os.path.isdir(dst):
            dst = os.path.join(dst, os.path.basename(src))
        shutil.copyfile(src, dst)
    except OSError as e:
        sys.stderr.write(f"cp: cannot create regular file '{dst}': {e.strerror}\n")
        return 1
    return 0


def install_conf(src: str, dst: str) -> int:
    """``/opt/bin/install-conf``: temp ``.<name>.tmp*`` in DST's dir + rename (§1.3)."""
    directory, name = os.path.split(dst)
    try:
        with open(src, "rb") as f:
            data = f.read()
        fd, tmp = tempfile.mkstemp(prefix=f".{name}.tmp", dir=directory or ".")
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, 0o644)
        os.rename(tmp, dst)
    except OSError as e:
        sys.stderr.write(f"failed to install {src} to {dst}: {e}\n")
        return 1
    return 0


# the PATH an image's config gives its processes (the runtime sets it; Go programs
# look iptables, iptables-restore and nft up on it, real-flannel.md §5)
IMAGE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def exec_real(argv: list[str]) -> int:
    """Hand the container over to a real program of the image (never returns)."""
    env = {"PATH": IMAGE_PATH, **os.environ}
    sys.stdout.flush()
    sys.stderr.flush()
    os.execvpe(argv[0], argv, env)
    return EXIT_NOT_FOUND  # pragma: no cover


class FlannelCNIPluginImage:
    """``flannel-cni-plugin:<tag>``: the image holds only ``/flannel`` (§1.3)."""

    def run(self, argv: list[str], ctx: ContainerContext) -> int:
        """``cp -f /flannel <dst>`` installs the real plugin when the image is built
        (harness.realflannel), else the launcher of the emulation for this tag."""
        if "/flannel" in ctx.image_files and argv[:1] == ["cp"]:
            return exec_real(argv)
        if len(argv) == 4 and argv[:3] == ["cp", "-f", "/flannel"]:
            dst = argv[3]
            if os.path.isdir(dst):
                dst = os.path.join(dst, "flannel")
            try:
                version = known_tag(tag(ctx.image), LATEST_CNI_PLUGIN)
                cni_plugin.install_launcher(dst, version)
            except OSError as e:
                sys.stderr.write(f"cp: cannot create regular file '{dst}': {e}\n")
                return 1
            return 0
        return _unknown(argv, ctx.image)


class FlannelImage:
    """``flannel:<tag>``: the install-cni init container and flanneld (§1.3)."""

    @staticmethod
    def classify(argv: list[str]) -> str:
        """Which emulated program ``argv`` runs: cp, install-conf, flanneld or ''."""
        if len(argv) == 4 and argv[:2] == ["cp", "-f"]:
            return "cp"
        if len(argv) == 3 and argv[0] == "/opt/bin/install-conf":
            return "install-conf"
        if argv and argv[0] == "/opt/bin/flanneld":
            return "flanneld"
        return ""

    def run(self, argv: list[str], ctx: ContainerContext) -> int:
        """Behave as the flannel image started with ``argv``."""
        kind = self.classify(argv)
        if kind == "cp":
            return _cp_f(argv[2], argv[3])
        if kind == "install-conf":
            return install_conf(argv[1], argv[2])
        if kind == "flanneld" and argv[0] in ctx.image_files:
            return exec_real(argv)  # the upstream flanneld, built from its module
        if kind == "flanneld":
            from harness.emulation.flannel.flanneld import main

            version = known_tag(tag(ctx.image), LATEST_FLANNEL)
            return main(argv[1:], version=version, ctx=ctx)
        return _unknown(argv, ctx.image)
