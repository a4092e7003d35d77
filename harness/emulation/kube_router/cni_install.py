"""``/usr/local/bin/cni-install`` of the kube-router image (test emulation; since
v2.1.0, kube-router-footprint.md §1).

Makes sure ``bridge``, ``portmap``, ``host-local`` and ``loopback`` are in the host's
``/opt/cni/bin`` (created if missing): each one that already exists and is executable
is skipped, whatever its version; a missing or non-executable one is copied from the
image's ``/usr/libexec/cni`` with mode 0755 (``install -m 755``). Exit 1 when the
directory cannot be made, 2 when a copy fails.
"""

from __future__ import annotations

import os
import shutil
import sys

PLUGINS = ("bridge", "portmap", "host-local", "loopback")
IMAGE_DIR = "/usr/libexec/cni"
HOST_DIR = "/opt/cni/bin"


def _copy(src: str, dst: str) -> None:
    """``install -m 755 SRC DST``: replace DST (never write through it), mode 0755."""
    tmp = f"{dst}.cni-install.tmp"
    shutil.copyfile(src, tmp)
    os.chmod(tmp, 0o755)
    os.replace(tmp, dst)


def _say(text: str) -> None:
    sys.stdout.write(text + "\n")


def install(host_dir: str = HOST_DIR, image_dir: str = IMAGE_DIR) -> int:
    if not os.path.isdir(host_dir):
        _say(f"{host_dir} is missing on the node, creating it")
        try:
            os.makedirs(host_dir)
        except OSError as e:
            _say(f"could not create {host_dir}: {e}")
            return 1
    for plugin in PLUGINS:
        dst = os.path.join(host_dir, plugin)
        if os.access(dst, os.X_OK):
            _say(f"{dst} exists and is executable: left as it is")
            continue
        _say(f"{dst} is missing or not executable: installing the image's copy")
        try:
            _copy(os.path.join(image_dir, plugin), dst)
        except OSError as e:
            _say(f"could not install {dst}: {e}")
            return 2
    _say("CNI plugins in place")
    return 0


def main() -> int:
    code = install()
    sys.stdout.flush()
    return code
