"""The one source of what scenarios run over: Flannel versions and container runtimes.

Flannel versions are the manifests in ``fixtures/manifests/`` (``kube-flannel-<v>.yml``):
adding a manifest adds a version everywhere (options, matrices, unit tests). Runtimes are
the ones whose CNI behaviour and error wording the sandbox reproduces
(``harness.emulation.runtime``; fact: harness-anchors.md §5, flannel-footprint.md §3.5).

>>> flannel_versions()
('v0.24.4', 'v0.26.7', 'v0.27.3', 'v0.28.9')
>>> manifest_path("v0.27.3").name
'kube-flannel-v0.27.3.yml'
>>> runtime_name("containerd")
'containerd-1.7'
"""

from __future__ import annotations

import re
from pathlib import Path

MANIFESTS = Path(__file__).resolve().parent.parent / "fixtures" / "manifests"
_MANIFEST = re.compile(r"kube-flannel-(v\d+\.\d+\.\d+)\.yml")
DEFAULT_FLANNEL_VERSION = "v0.27.3"

RUNTIMES = ("containerd-1.7", "containerd-1.6", "containerd-1.5", "crio", "dockershim")
DEFAULT_RUNTIME = "containerd-1.7"
RUNTIME_ALIASES = {"containerd": DEFAULT_RUNTIME}


def version_key(version: str) -> tuple[int, ...]:
    """``v0.27.3`` -> ``(0, 27, 3)``, for sorting and comparing versions."""
    return tuple(int(x) for x in version.lstrip("v").split("."))


def versions_since(first: str) -> tuple[str, ...]:
    """The fixture versions from ``first`` on (e.g. those with nftables mode)."""
    return tuple(v for v in flannel_versions() if version_key(v) >= version_key(first))


def flannel_versions() -> tuple[str, ...]:
    """Every Flannel version with a manifest fixture, oldest first."""
    found = (_MANIFEST.fullmatch(p.name) for p in MANIFESTS.glob("kube-flannel-*.yml"))
    return tuple(sorted((m.group(1) for m in found if m), key=version_key))


def manifest_path(version: str) -> Path:
    """``fixtures/manifests/kube-flannel-<version>.yml``; a clear error when absent."""
    path = MANIFESTS / f"kube-flannel-{version}.yml"
    if not path.is_file():
        have = ", ".join(flannel_versions())
        raise FileNotFoundError(f"no manifest for Flannel {version} (have: {have})")
    return path


def runtime_name(name: str) -> str:
    """The canonical runtime name (``containerd`` is containerd 1.7)."""
    canonical = RUNTIME_ALIASES.get(name, name)
    if canonical not in RUNTIMES:
        raise ValueError(f"unknown runtime {name!r} (known: {', '.join(RUNTIMES)})")
    return canonical
