"""The upstream Go programs behind Flannel's two images, pinned at exact tags.

``flannel:<tag>`` holds ``/opt/bin/flanneld`` = ``github.com/flannel-io/flannel@<tag>``
(cgo on: the UDP backend needs it, real-flannel.md §1a); ``flannel-cni-plugin:<tag>``
holds ``/flannel`` = ``github.com/flannel-io/cni-plugin@<tag>`` (no cgo, §1b). The tag is
always the image's own, never ``@latest`` (the plugin's tags are pre-releases, so
``@latest`` would resolve to v1.2.0, §1b).

>>> flanneld("v0.27.3").ldflags
'-X github.com/flannel-io/flannel/pkg/version.Version=v0.27.3'
>>> program_for_image("ghcr.io/flannel-io/flannel-cni-plugin:v1.7.1-flannel1").target
'github.com/flannel-io/cni-plugin@v1.7.1-flannel1'
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

FLANNEL_MODULE = "github.com/flannel-io/flannel"
CNI_PLUGIN_MODULE = "github.com/flannel-io/cni-plugin"
_TAG = re.compile(r"^v\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$")


@dataclass(frozen=True)
class GoProgram:
    """One upstream ``main`` module at one tag, and where its binary is cached."""

    image_repo: str  # last path element of the image: "flannel" | "flannel-cni-plugin"
    module: str
    tag: str
    go_name: str  # what ``go install`` names the binary (the module's last element)
    cached_name: str  # the file name in the cache (and in the image)
    image_path: str  # where the image holds it
    cgo: bool
    ldflags: str  # the -X flags upstream links with

    @property
    def target(self) -> str:
        return f"{self.module}@{self.tag}"

    @property
    def label(self) -> str:
        """Human name, e.g. ``flanneld v0.27.3``."""
        name = "flanneld" if self.image_repo == "flannel" else "flannel CNI plugin"
        return f"{name} {self.tag}"


def _check_tag(tag: str) -> str:
    if not _TAG.match(tag):
        raise ValueError(f"not an exact version tag: {tag!r} (e.g. v0.27.3)")
    return tag


def flanneld(tag: str) -> GoProgram:
    """flanneld, named and versioned as upstream's Makefile builds it (§1a)."""
    return GoProgram(
        image_repo="flannel",
        module=FLANNEL_MODULE,
        tag=_check_tag(tag),
        go_name="flannel",
        cached_name="flanneld",
        image_path="/opt/bin/flanneld",
        cgo=True,
        ldflags=f"-X {FLANNEL_MODULE}/pkg/version.Version={tag}",
    )


def cni_plugin(tag: str) -> GoProgram:
    """The flannel CNI plugin, versioned as ``scripts/build_flannel.sh`` does (§1b)."""
    return GoProgram(
        image_repo="flannel-cni-plugin",
        module=CNI_PLUGIN_MODULE,
        tag=_check_tag(tag),
        go_name="cni-plugin",
        cached_name="flannel",
        image_path="/flannel",
        cgo=False,
        ldflags=f"-X main.Program=flannel -X main.Version={tag}",
    )


_BY_REPO = {"flannel": flanneld, "flannel-cni-plugin": cni_plugin}


def program_for_image(image: str) -> GoProgram | None:
    """The program a Flannel image reference holds; None for any other image or a tag
    that is not an exact version (``:latest``, digests)."""
    ref = image.split("@", 1)[0]
    last = ref.rsplit("/", 1)[-1]
    repo, _, tag = last.partition(":")
    make = _BY_REPO.get(repo)
    if make is None or not _TAG.match(tag):
        return None
    return make(tag)


def manifest_programs(manifest: Path) -> list[GoProgram]:
    """The programs a kube-flannel manifest's DaemonSet runs, from its images (the
    plugin tag is the one this manifest ships, real-flannel.md §1c)."""
    import yaml

    found: dict[str, GoProgram] = {}
    for doc in yaml.safe_load_all(manifest.read_text()):
        for container in _containers(doc):
            program = program_for_image(str(container.get("image", "")))
            if program is not None:
                found[program.target] = program
    if not found:
        raise ValueError(f"{manifest}: no flannel or flannel-cni-plugin image")
    return sorted(found.values(), key=lambda p: p.image_repo)


def _containers(doc: Any) -> list[dict[str, Any]]:
    if not isinstance(doc, dict) or doc.get("kind") != "DaemonSet":
        return []
    spec = (((doc.get("spec") or {}).get("template") or {}).get("spec")) or {}
    return [*(spec.get("initContainers") or []), *(spec.get("containers") or [])]
