"""Manifest URLs in a runbook, mapped to the pinned fixtures of the same file and version.

Sandbox clusters have no network: ``kubectl apply -f https://…/kube-flannel.yml`` cannot
fetch anything. When a URL is recognisably an upstream manifest that
``fixtures/manifests/`` pins (``kube-flannel-<v>.yml``, ``kube-router-<v>.yml``), the
step uses that fixture and the report says so; a branch (``master``, ``latest``) maps to
the newest pinned version. Any other URL, or a version that is not pinned, is an error
the runner reports as a failed step (never a silent substitute).

>>> resolve("https://github.com/flannel-io/flannel/releases/download/v0.27.3/kube-flannel.yml").name
'kube-flannel-v0.27.3.yml'
>>> resolve("flannel").name.startswith("kube-flannel-")
True
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from harness.matrix import MANIFESTS, version_key

BRANCHES = {"latest", "master", "main", "HEAD"}
_VERSION = re.compile(r"v\d+\.\d+\.\d+")


@dataclass(frozen=True)
class Upstream:
    """One upstream manifest file, where it is published, and its fixture prefix."""

    name: str  # a short name a runbook may use instead of a URL
    file: str  # the upstream file name, as users know it
    prefix: str  # fixtures/manifests/<prefix>-<version>.yml
    urls: tuple[re.Pattern[str], ...]  # each with a (?P<ref>…) group


_REF = r"(?P<ref>[A-Za-z0-9._-]+)"
UPSTREAMS = (
    Upstream(
        "flannel",
        "kube-flannel.yml",
        "kube-flannel",
        (
            re.compile(
                rf"https?://github\.com/(flannel-io|coreos)/flannel/releases/download/{_REF}/kube-flannel\.yml"
            ),
            re.compile(
                r"https?://github\.com/(flannel-io|coreos)/flannel/releases/(?P<ref>latest)/download/kube-flannel\.yml"
            ),
            re.compile(
                rf"https?://raw\.githubusercontent\.com/(flannel-io|coreos)/flannel/(refs/(heads|tags)/)?{_REF}/Documentation/kube-flannel\.yml"
            ),
            re.compile(
                rf"https?://github\.com/(flannel-io|coreos)/flannel/(raw|blob)/{_REF}/Documentation/kube-flannel\.yml(\?raw=true)?"
            ),
        ),
    ),
    Upstream(
        "kube-router",
        "kubeadm-kuberouter.yaml",
        "kube-router",
        (
            re.compile(
                rf"https?://raw\.githubusercontent\.com/cloudnativelabs/kube-router/(refs/(heads|tags)/)?{_REF}/daemonset/kubeadm-kuberouter\.yaml"
            ),
            re.compile(
                rf"https?://github\.com/cloudnativelabs/kube-router/(raw|blob)/{_REF}/daemonset/kubeadm-kuberouter\.yaml(\?raw=true)?"
            ),
        ),
    ),
)


class ManifestUnavailable(LookupError):
    """A manifest the sandbox cannot provide (say why, and what is pinned)."""


def is_url(text: str) -> bool:
    return bool(re.match(r"^[a-z][a-z0-9+.-]*://", text, re.I))


def pinned(prefix: str) -> tuple[str, ...]:
    """Versions with a fixture ``<prefix>-<version>.yml``, oldest first."""
    pattern = re.compile(rf"{re.escape(prefix)}-(v\d+\.\d+\.\d+)\.yml")
    found = (pattern.fullmatch(p.name) for p in MANIFESTS.glob(f"{prefix}-*.yml"))
    return tuple(sorted((m.group(1) for m in found if m), key=version_key))


def resolve(reference: str, base: Path | None = None) -> Path:
    """The fixture (or local file) a manifest reference stands for: a recognised URL, a
    short name (``flannel``, ``kube-router``, optionally ``@v…``), or a path (relative
    to ``base``, the runbook's directory)."""
    if is_url(reference):
        return _from_url(reference)
    name, _, ref = reference.partition("@")
    for up in UPSTREAMS:
        if name == up.name:
            return _fixture(up, ref or "latest", reference)
    path = Path(reference).expanduser()
    if not path.is_absolute() and base is not None:
        path = base / path
    if not path.is_file():
        raise ManifestUnavailable(f"manifest {reference}: no such file ({path})")
    return path


def _from_url(url: str) -> Path:
    for up in UPSTREAMS:
        for pattern in up.urls:
            m = pattern.fullmatch(url.strip())
            if m:
                return _fixture(up, m.group("ref"), url)
    known = ", ".join(up.file for up in UPSTREAMS)
    raise ManifestUnavailable(
        f"cannot fetch {url}: sandbox clusters have no network, and it is not an "
        f"upstream manifest with a pinned fixture (known: {known})"
    )


def _fixture(up: Upstream, ref: str, what: str) -> Path:
    have = pinned(up.prefix)
    if ref in BRANCHES and have:
        ref = have[-1]
    if not _VERSION.fullmatch(ref) or ref not in have:
        raise ManifestUnavailable(
            f"{what}: no pinned fixture of {up.file} at {ref!r} "
            f"(pinned: {', '.join(have) or 'none'}; a branch maps to the newest)"
        )
    return MANIFESTS / f"{up.prefix}-{ref}.yml"


def describe(reference: str, path: Path) -> str:
    """What the report says about a mapping (empty when nothing was mapped)."""
    if (
        not is_url(reference)
        and "/" not in reference
        and not reference.endswith(".yml")
    ):
        return f"{reference} → pinned fixture {path.name}"
    if is_url(reference):
        return f"{reference} → pinned fixture {path.name} (no network here)"
    return ""
