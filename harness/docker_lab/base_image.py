"""The lab engine's only image source: a Debian root filesystem built here with
``debootstrap`` from Debian's mirror, cached as a tarball outside the repository, and
``docker import``-ed into an engine.

The tarball is built once per machine (``scripts/bootstrap.sh`` does it; measured
~40 s on a fresh 2-core machine, ~145 MB) and reused by every run: its name carries a
hash of the suite, variant and package list, so changing any of them builds a new one.
It holds what the cleaner's image needs from its base (``python3`` with ``venv``,
``iproute2``, ``iptables``, ``nftables``), so ``deploy/Dockerfile`` builds on it with no
network. Build it by hand with ``python -m harness.docker_lab.base_image``.
"""

from __future__ import annotations

import argparse
import fcntl
import hashlib
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

SUITE = "bookworm"
VARIANT = "minbase"
PACKAGES = ("python3", "python3-venv", "iproute2", "iptables", "nftables")
DEFAULT_MIRROR = "http://deb.debian.org/debian"
CACHE_ENV = "CNISCRUB_CACHE"
MIRROR_ENV = "CNISCRUB_DEBIAN_MIRROR"
DEBOOTSTRAP_TIMEOUT = 1200.0
# what an image does not need: package caches, docs, manuals, translations
_TRIM = (
    "var/cache/apt/archives",
    "var/lib/apt/lists",
    "usr/share/doc",
    "usr/share/man",
    "usr/share/info",
    "usr/share/locale",
)


class BaseImageError(RuntimeError):
    """The base root filesystem could not be built or imported."""


def cache_dir() -> Path:
    """``$CNISCRUB_CACHE``, default ``/var/cache/cniscrub`` (outside the repository)."""
    return Path(os.environ.get(CACHE_ENV) or "/var/cache/cniscrub")


def tarball_path(suite: str = SUITE, packages: tuple[str, ...] = PACKAGES) -> Path:
    key = hashlib.sha256(
        "\n".join([suite, VARIANT, *sorted(packages)]).encode()
    ).hexdigest()[:12]
    return cache_dir() / "rootfs" / f"debian-{suite}-{VARIANT}-{key}.tar"


def image_tag(suite: str = SUITE, packages: tuple[str, ...] = PACKAGES) -> str:
    """The tag the tarball is imported as, e.g. ``cniscrub-lab/debian:bookworm-1a2b…``."""
    key = tarball_path(suite, packages).stem.rsplit("-", 1)[-1]
    return f"cniscrub-lab/debian:{suite}-{key}"


def ensure_tarball(
    suite: str = SUITE, packages: tuple[str, ...] = PACKAGES, mirror: str | None = None
) -> Path:
    """The cached root filesystem tarball; built with debootstrap when missing."""
    path = tarball_path(suite, packages)
    if path.is_file():
        return path
    if shutil.which("debootstrap") is None:
        raise BaseImageError(
            f"no cached base root filesystem ({path}) and no debootstrap to build it "
            "(apt-get install debootstrap)"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.parent / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one build per machine, others wait for it
        if not path.is_file():
            _build(path, suite, packages, mirror or os.environ.get(MIRROR_ENV))
    return path


def _build(
    path: Path, suite: str, packages: tuple[str, ...], mirror: str | None
) -> None:
    started = time.monotonic()
    with tempfile.TemporaryDirectory(dir=path.parent, prefix=".build-") as tmp:
        root = Path(tmp, "rootfs")
        argv = [
            "debootstrap",
            f"--variant={VARIANT}",
            f"--include={','.join(packages)}",
            suite,
            str(root),
            mirror or DEFAULT_MIRROR,
        ]
        log.warning(
            "building the lab base image: %s (once per machine)", " ".join(argv)
        )
        proc = subprocess.run(
            argv, capture_output=True, text=True, timeout=DEBOOTSTRAP_TIMEOUT
        )
        if proc.returncode != 0:
            tail = " | ".join(proc.stdout.strip().splitlines()[-5:])
            raise BaseImageError(f"debootstrap failed ({proc.returncode}): {tail}")
        for sub in _TRIM:
            shutil.rmtree(root / sub, ignore_errors=True)
            (root / sub).mkdir(parents=True, exist_ok=True)
        partial = Path(tmp, "rootfs.tar")
        subprocess.run(
            [
                "tar",
                "--numeric-owner",
                "--xattrs",
                "-C",
                str(root),
                "-cf",
                str(partial),
                ".",
            ],
            check=True,
            timeout=600,
        )
        os.replace(partial, path)
    log.warning(
        "lab base image built in %.0fs: %s (%.0f MB)",
        time.monotonic() - started,
        path,
        path.stat().st_size / 1e6,
    )


def import_base(client: Any, labels: dict[str, str] | None = None) -> str:
    """``docker import`` the cached tarball into the engine; return the image tag."""
    tag = image_tag()
    repository, _, version = tag.rpartition(":")
    changes = [f'LABEL "{k}"="{v}"' for k, v in sorted((labels or {}).items())]
    client.api.import_image_from_file(
        str(ensure_tarball()), repository=repository, tag=version, changes=changes
    )
    return tag


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m harness.docker_lab.base_image",
        description="Build (once) the cached Debian root filesystem the lab Docker "
        "engine imports as its base image, and print its path.",
    )
    parser.add_argument("--mirror", help=f"Debian mirror (default {DEFAULT_MIRROR})")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    try:
        path = ensure_tarball(mirror=args.mirror)
    except (BaseImageError, subprocess.SubprocessError, OSError) as exc:
        parser.exit(1, f"base image: {exc}\n")
    sys.stdout.write(f"{path}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
