"""Build the cleaner's image from ``deploy/Dockerfile`` through the docker SDK.

The build context is assembled from the source tree (only what the Dockerfile copies:
``pyproject.toml``, ``README.md``, ``cniscrub/``, ``deploy/``), so the image tag can
carry a digest of exactly that content: an unchanged tree reuses the built image.
``offline=True`` builds with no network at all (the lab engine's namespace has no route
out): the build requirements and dependencies named in ``pyproject.toml`` are
downloaded as wheels on the host first (cached outside the repository) and the build
runs with ``PIP_OPTS=--no-index``.

>>> image = build(docker.from_env())                        # doctest: +SKIP
'cniscrub:0.1.0-3f2a9c1d0b7e'
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

from harness.providers.base import ProviderError

log = logging.getLogger(__name__)

REPO = Path(__file__).resolve().parents[3]
DOCKERFILE = "deploy/Dockerfile"
CONTEXT = ("pyproject.toml", "README.md", "cniscrub", "deploy")
IMAGE_LABEL = "io.cniscrub.image"
_SKIP = shutil.ignore_patterns("__pycache__", "*.pyc", "*.whl")


def project() -> dict[str, Any]:
    return tomllib.loads((REPO / "pyproject.toml").read_text())


def assemble_context(dest: Path, wheels: list[Path] | None = None) -> Path:
    """Copy what the Dockerfile needs into ``dest`` (symlinks resolved); put
    ``wheels`` into ``deploy/wheels``."""
    dest.mkdir(parents=True, exist_ok=True)
    for rel in CONTEXT:
        src, out = REPO / rel, dest / rel
        if src.is_dir():
            shutil.copytree(src, out, ignore=_SKIP, symlinks=False)
        else:
            shutil.copy2(src, out)
    (dest / "deploy" / "wheels").mkdir(parents=True, exist_ok=True)
    for wheel in wheels or []:
        shutil.copy2(wheel, dest / "deploy" / "wheels" / wheel.name)
    return dest


def context_digest(context: Path) -> str:
    """sha256 over the context's relative paths, modes and contents."""
    digest = hashlib.sha256()
    for path in sorted(p for p in context.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(context)).encode() + b"\0")
        digest.update(oct(path.stat().st_mode & 0o777).encode() + b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()


def offline_requirements() -> list[str]:
    """What an offline build needs from PyPI: pyproject's build requirements and the
    package's runtime dependencies."""
    data = project()
    return [*data["build-system"]["requires"], *data["project"]["dependencies"]]


def offline_wheels(cache: Path | None = None) -> list[Path]:
    """Wheels for :func:`offline_requirements`, downloaded once into a cache directory
    keyed by the requirements and the Python version."""
    from harness.docker_lab.base_image import cache_dir

    reqs = offline_requirements()
    key = hashlib.sha256(
        "\n".join([*sorted(reqs), f"{sys.version_info[:2]}"]).encode()
    ).hexdigest()[:12]
    folder = (cache or cache_dir()) / "wheels" / key
    if not any(folder.glob("*.whl")):
        folder.mkdir(parents=True, exist_ok=True)
        argv = [sys.executable, "-m", "pip", "download", "--disable-pip-version-check"]
        argv += ["--quiet", "--only-binary=:all:", "--dest", str(folder), *reqs]
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=600)
        if proc.returncode != 0:
            shutil.rmtree(folder, ignore_errors=True)
            raise ProviderError(
                f"pip download {' '.join(reqs)} failed: {proc.stderr[-600:]}"
            )
    return sorted(folder.glob("*.whl"))


def build(
    client: Any,
    workdir: Path,
    *,
    base: str | None = None,
    offline: bool = False,
    labels: dict[str, str] | None = None,
) -> str:
    """Build the image (or reuse the one built from identical content); return its tag.

    ``base`` overrides the Dockerfile's ``BASE`` (default: the pinned upstream image);
    ``offline`` builds with ``network_mode=none`` from host-downloaded wheels."""
    import docker.errors

    context = assemble_context(workdir / "context", offline_wheels() if offline else [])
    version = project()["project"]["version"]
    args = {"BASE": base} if base else {}
    if offline:
        args["PIP_OPTS"] = "--no-index"
    key = hashlib.sha256(
        (context_digest(context) + repr(sorted(args.items()))).encode()
    ).hexdigest()
    tag = f"cniscrub:{version}-{key[:12]}"
    try:
        client.images.get(tag)
        return tag
    except docker.errors.ImageNotFound:
        pass
    log.warning("building %s from %s (base %s)", tag, DOCKERFILE, base or "default")
    try:
        client.images.build(
            path=str(context),
            dockerfile=DOCKERFILE,
            tag=tag,
            buildargs=args,
            labels={IMAGE_LABEL: "cleaner", **(labels or {})},
            network_mode="none" if offline else None,
            rm=True,
            forcerm=True,
        )
    except docker.errors.BuildError as exc:
        lines = [str(c.get("stream") or c.get("error") or "") for c in exc.build_log]
        tail = "".join(lines).strip().splitlines()[-12:]
        raise ProviderError(
            f"building {tag} failed: {exc.msg}\n" + "\n".join(tail)
        ) from exc
    return tag


def workdir_for(state_dir: Path) -> Path:
    """A fresh scratch directory for one build under ``state_dir``."""
    path = state_dir / "image-build"
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    os.chmod(path, 0o700)
    return path
