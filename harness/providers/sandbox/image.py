"""The node image: a read-only overlay layer shared by every sandbox node.

It plays the part of a node OS image. It hides the host's own CNI state (opaque
``/etc/cni/net.d``, ``/opt/cni/bin``, ``/var/lib/cni``) and ships the reference CNI
plugins in ``/opt/cni/bin``, like a kubeadm node with the ``kubernetes-cni`` package
(``full``) or a kind node (``kind``: host-local, loopback, ptp and portmap only;
fact: harness-anchors.md §8 "Node image contents").

Built once per state root, atomically, and reused; plugins come from Debian's
containernetworking-plugins (``/usr/lib/cni``, or ``$CNISCRUB_LAB_CNI_PLUGINS``).
"""

from __future__ import annotations

import fcntl
import os
import shutil
import tempfile
from pathlib import Path

from harness.providers.sandbox.state import SandboxError

PLUGINS_ENV = "CNISCRUB_LAB_CNI_PLUGINS"
DEFAULT_PLUGIN_DIR = Path("/usr/lib/cni")
KIND_PLUGINS = ("host-local", "loopback", "ptp", "portmap")
REQUIRED_PLUGINS = ("bridge", "host-local", "loopback", "portmap")
IMAGE_VERSION = "1"

# directories whose host content must not leak into nodes
OPAQUE_DIRS = ("etc/cni", "opt/cni", "var/lib/cni", "var/lib/kubelet", "var/log/pods")
_OPAQUE_XATTR = "trusted.overlay.opaque"


def plugin_dir() -> Path:
    return Path(os.environ.get(PLUGINS_ENV) or DEFAULT_PLUGIN_DIR)


def check_plugins() -> Path:
    """The plugin directory, or a clear error that says how to install the plugins."""
    src = plugin_dir()
    missing = [p for p in REQUIRED_PLUGINS if not (src / p).is_file()]
    if missing:
        raise SandboxError(
            f"the reference CNI plugins are missing from {src} ({', '.join(missing)}); "
            "install them with `apt-get install containernetworking-plugins` "
            f"(or point {PLUGINS_ENV} at a directory holding bridge, host-local, "
            "loopback and portmap)"
        )
    return src


def ensure_image(home: Path, variant: str) -> Path:
    """Return the image layer for ``variant`` (``full`` or ``kind``), building it once."""
    if variant not in ("full", "kind"):
        raise SandboxError(f"unknown CNI plugin set {variant!r} (choose full or kind)")
    src = check_plugins()
    images = home / "images"
    target = images / f"{variant}-v{IMAGE_VERSION}"
    if (target / ".complete").exists():
        return target
    images.mkdir(parents=True, exist_ok=True)
    with open(images / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (target / ".complete").exists():
            return target
        build = Path(tempfile.mkdtemp(dir=images, prefix=f".{variant}-"))
        try:
            _populate(build, src, variant)
            (build / ".complete").write_text("ok\n")
            if target.exists():
                shutil.rmtree(target)
            os.rename(build, target)
        except BaseException:
            shutil.rmtree(build, ignore_errors=True)
            raise
    return target


def _populate(root: Path, src: Path, variant: str) -> None:
    for rel in OPAQUE_DIRS:
        d = root / rel
        d.mkdir(parents=True, exist_ok=True)
        os.setxattr(d, _OPAQUE_XATTR, b"y")
    (root / "etc/cni/net.d").mkdir()
    (root / "etc/kubernetes").mkdir(parents=True)
    bin_dir = root / "opt/cni/bin"
    bin_dir.mkdir()
    names = KIND_PLUGINS if variant == "kind" else sorted(p.name for p in src.iterdir())
    for name in names:
        plugin = src / name
        if plugin.is_file():
            shutil.copy2(plugin, bin_dir / name)
    for rel in ("var/lib/cni", "var/lib/kubelet/pods", "var/log/pods", "var/lib/cni"):
        (root / rel).mkdir(parents=True, exist_ok=True)


def layer_dirs(image: Path) -> dict[str, Path]:
    """target mount point -> the image's lower dir for it."""
    return {f"/{d}": image / d for d in ("etc", "opt", "var")}
