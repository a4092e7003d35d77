"""Registry of emulated container images.

A sandbox pod's container does not run an OCI image; the emulated kubelet starts a
process *inside the node* whose behaviour is supplied by an :class:`ImageHandler` chosen by
the image's repository (the part before ``:tag``/``@digest``). An image that is not in
:data:`IMAGES` makes the pod fail with an ``ErrImagePull``-style status, never a silent
success.

>>> repository("ghcr.io/flannel-io/flannel:v0.27.3")
'ghcr.io/flannel-io/flannel'
>>> tag("ghcr.io/flannel-io/flannel:v0.27.3")
'v0.27.3'
"""

from __future__ import annotations

import importlib

from harness.emulation.images.base import ContainerContext, ImageHandler

__all__ = ["IMAGES", "ContainerContext", "ImageHandler", "repository", "resolve", "tag"]

# repository -> "module:Class"; imported lazily (testinfra's BACKENDS idiom).
IMAGES: dict[str, str] = {
    "docker.io/flannel/flannel": "harness.emulation.flannel.image:FlannelImage",
    "ghcr.io/flannel-io/flannel": "harness.emulation.flannel.image:FlannelImage",
    "docker.io/flannel/flannel-cni-plugin": (
        "harness.emulation.flannel.image:FlannelCNIPluginImage"
    ),
    "ghcr.io/flannel-io/flannel-cni-plugin": (
        "harness.emulation.flannel.image:FlannelCNIPluginImage"
    ),
    "docker.io/cloudnativelabs/kube-router": (
        "harness.emulation.kube_router.image:KubeRouterImage"
    ),
    "docker.io/library/busybox": "harness.emulation.images.workload:WorkloadImage",
    "registry.k8s.io/pause": "harness.emulation.images.workload:WorkloadImage",
    "registry.k8s.io/e2e-test-images/agnhost": (
        "harness.emulation.images.workload:WorkloadImage"
    ),
    # the cleaner's image as deploy/Dockerfile builds it (`cniscrub:<version>`)
    "docker.io/library/cniscrub": "harness.emulation.images.cleaner:CleanerImage",
}


def repository(image: str) -> str:
    """Normalise an image reference to its repository (docker.io default registry)."""
    ref = image.split("@", 1)[0]
    last = ref.rsplit("/", 1)[-1]
    if ":" in last:
        ref = ref[: len(ref) - len(last)] + last.split(":", 1)[0]
    first = ref.split("/", 1)[0]
    if "/" not in ref:
        ref = "docker.io/library/" + ref
    elif "." not in first and ":" not in first and first != "localhost":
        ref = "docker.io/" + ref
    return ref


def tag(image: str) -> str:
    """The image tag (``latest`` when none is given)."""
    ref = image.split("@", 1)[0]
    last = ref.rsplit("/", 1)[-1]
    return last.split(":", 1)[1] if ":" in last else "latest"


def resolve(image: str) -> ImageHandler | None:
    """The handler for an image, or None when the image is not emulated (a handler
    class with a ``has_tag(tag)`` check knows only the tags it accepts)."""
    target = IMAGES.get(repository(image))
    if target is None:
        return None
    module_name, _, class_name = target.partition(":")
    cls = getattr(importlib.import_module(module_name), class_name)
    has_tag = getattr(cls, "has_tag", None)
    if has_tag is not None and not has_tag(tag(image)):
        return None
    handler: ImageHandler = cls()
    return handler
