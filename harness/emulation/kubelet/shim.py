"""The process one container runs as, inside a sandbox node (test emulation).

The kubelet starts ``unshare --mount -- python -m harness.emulation.kubelet.shim`` (the
container spec in ``$CNISCRUB_CONTAINER_SPEC``)
inside the node (and inside the pod's network namespace unless hostNetwork). The shim
gives the container a root of its own, assembled on a private tmpfs and entered with
``chroot``:

1. every top-level entry of the node's tree is bind-mounted into it, except ``/etc``,
   ``/opt``, ``/var`` and ``/run`` (and any other tree a missing mount point lies in,
   e.g. ``/usr`` for ``/lib/modules``), which get a private overlay over the node's
   files, so whatever the container writes outside its volumes (including the mount
   points it needs, e.g. ``/etc/kube-flannel``) never reaches the node or the host;
2. each volume is bind-mounted at its ``mountPath``: writes there *do* reach the node,
   exactly as with hostPath volumes on a real node.

Then it sets the process title to the container's argv (``ps`` shows
``/opt/bin/flanneld --ip-masq --kube-subnet-mgr``, ``comm`` is ``flanneld``), sends
stdout/stderr to the container log, and hands over to the emulated image.
"""

from __future__ import annotations

import ctypes
import json
import os
import sys
from pathlib import Path

from harness.emulation.images import ContainerContext, resolve
from harness.providers.sandbox.holder import mount

MS_BIND = 4096
MS_REC = 16384
MS_RDONLY = 1
MS_REMOUNT = 32
STAGING = "/mnt"
PRIVATE_TREES = ("/etc", "/opt", "/var", "/run")
PR_SET_NAME = 15
SPEC_ENV = "CNISCRUB_CONTAINER_SPEC"  # the container spec (JSON), set by the kubelet


def needs_private(mounts: list[dict]) -> set[str]:
    """Top-level trees outside :data:`PRIVATE_TREES` where a mount point must be made
    (e.g. ``/lib/modules`` -> ``/usr`` on a host without modules): outside its own
    trees a node's ``/`` is the host's, so they get a private overlay too."""
    tops = set()
    for m in mounts:
        real = os.path.realpath(m["target"].rstrip("/") or "/")
        top = "/" + real.strip("/").split("/")[0]
        if not os.path.exists(real) and top not in PRIVATE_TREES:
            tops.add(top)
    return tops


def setup_mounts(mounts: list[dict], image_files: dict[str, str] | None = None) -> str:
    """Assemble the container's root on a private tmpfs; return its path."""
    mount("tmpfs", STAGING, "tmpfs", 0, "mode=755,size=64m")
    root = f"{STAGING}/root"
    os.makedirs(root)
    points = [*mounts, *({"target": p} for p in image_files or {})]
    private = set(PRIVATE_TREES) | needs_private(points)
    for entry in sorted(os.listdir("/")):
        src, dst = f"/{entry}", f"{root}/{entry}"
        if os.path.islink(src):
            os.symlink(os.readlink(src), dst)
        elif not os.path.isdir(src):
            Path(dst).touch()
            mount(src, dst, "", MS_BIND)
        elif src in private:  # the node's files, but writes stay in the container
            os.makedirs(dst)
            upper, work = f"{STAGING}/ov{src}/upper", f"{STAGING}/ov{src}/work"
            os.makedirs(upper)
            os.makedirs(work)
            mount(
                "overlay",
                dst,
                "overlay",
                0,
                f"lowerdir={src},upperdir={upper},workdir={work}",
            )
        elif src == STAGING:
            os.makedirs(dst)
        else:
            os.makedirs(dst)
            mount(src, dst, "", MS_BIND | MS_REC)
    for m in mounts:  # volumes: writes here reach the node, like hostPath
        target = inside(root, m["target"])
        _make_point(target, m.get("file", False))
        mount(m["source"], target, "", MS_BIND | MS_REC)
        if m.get("readOnly"):
            mount(m["source"], target, "", MS_BIND | MS_REMOUNT | MS_RDONLY)
    for path, source in (image_files or {}).items():  # a real image's programs
        target = inside(root, path)
        _make_point(target, True)
        mount(source, target, "", MS_BIND)
        mount(source, target, "", MS_BIND | MS_REMOUNT | MS_RDONLY)
    return root


def inside(root: str, path: str, depth: int = 0) -> str:
    """Where the container's ``path`` is under ``root``, following symlinks as the
    container would see them (``/var/run`` -> ``/run`` stays inside the container)."""
    current = root
    for part in [p for p in path.split("/") if p and p != "."]:
        candidate = os.path.normpath(os.path.join(current, part))
        if os.path.islink(candidate) and depth < 40:
            link = os.readlink(candidate)
            base = root if link.startswith("/") else current
            candidate = inside(root, os.path.join(base[len(root) :], link), depth + 1)
        current = candidate if candidate.startswith(root) else root
    return current


def _make_point(path: str, is_file: bool) -> None:
    if is_file:
        os.makedirs(os.path.dirname(path) or "/", exist_ok=True)
        if not os.path.exists(path):
            Path(path).touch()
    else:
        os.makedirs(path, exist_ok=True)


def set_title(argv: list[str]) -> None:
    import setproctitle

    setproctitle.setproctitle(" ".join(argv))
    name = os.path.basename(argv[0])[:15].encode()
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_NAME, ctypes.c_char_p(name), 0, 0, 0)


def main() -> int:
    spec = json.loads(os.environ.pop(SPEC_ENV))
    ctx = ContainerContext(**spec["context"])
    log_path = Path(ctx.log_path)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log_fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o640)
    os.dup2(log_fd, 1)
    os.dup2(log_fd, 2)
    handler = resolve(ctx.image)
    if handler is None:
        print(f"image {ctx.image} is not emulated in the sandbox", file=sys.stderr)
        return 125
    if spec.get("note"):
        print(spec["note"], flush=True)
    os.chroot(setup_mounts(spec["mounts"], ctx.image_files))
    os.chdir(spec.get("workingDir") or "/")
    os.environ.update(ctx.env)
    argv = list(spec["argv"])
    set_title(argv)
    sys.stdout.flush()
    return handler.run(argv, ctx)


if __name__ == "__main__":
    sys.exit(main())
