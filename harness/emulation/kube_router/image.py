"""Image handler for ``cloudnativelabs/kube-router`` (test emulation).

Registered in :data:`harness.emulation.images.IMAGES`. It understands what the
standard manifests run (kube-router-footprint.md §1): the ``install-cni`` init
container's ``/bin/sh -c <script>``, run by the node's real POSIX shell with the
image's files laid out (:mod:`image_files`), so the script behaves exactly as written
(the conflist only when absent, ``*.conf`` removed only when exactly one matches,
``*.conflist`` never, ``cni-install`` only in images that have it); and the
``kube-router`` entrypoint with the container's args (:mod:`main`). Anything else
exits 127, like a missing executable.

>>> KubeRouterImage.classify(["--run-router=true"]), KubeRouterImage.classify(["ls"])
('kube-router', '')
"""

from __future__ import annotations

import sys

from harness.emulation.images import tag
from harness.emulation.images.base import ContainerContext
from harness.emulation.kube_router import image_files
from harness.emulation.kube_router.versions import kube_router_version

EXIT_NOT_FOUND = 127
ENTRYPOINTS = ("kube-router", "/usr/local/bin/kube-router")
SHELLS = ("/bin/sh", "sh", "/bin/ash")


def _title(argv: list[str]) -> None:
    """``ps`` shows ``/usr/local/bin/kube-router <args>``, ``comm`` ``kube-router``."""
    from harness.emulation.kubelet.shim import set_title

    set_title(argv)


class KubeRouterImage:
    """``docker.io/cloudnativelabs/kube-router[:tag]``."""

    @staticmethod
    def classify(argv: list[str]) -> str:
        """``shell``, ``kube-router`` or ``''`` (not emulated)."""
        if len(argv) == 3 and argv[0] in SHELLS and argv[1] == "-c":
            return "shell"
        if not argv or argv[0].startswith("-") or argv[0] in ENTRYPOINTS:
            return "kube-router"
        return ""

    def run(self, argv: list[str], ctx: ContainerContext) -> int:
        kind = self.classify(argv)
        version = kube_router_version(tag(ctx.image))
        if kind == "shell":
            sys.stdout.flush()
            return image_files.run_with_files(
                ["/bin/sh", "-c", argv[2]], version.cni_install
            )
        if kind == "kube-router":
            from harness.emulation.kube_router.main import main

            args = argv[1:] if argv and argv[0] in ENTRYPOINTS else argv
            if not argv or argv[0] not in ENTRYPOINTS:  # args only: the ENTRYPOINT runs
                _title([ENTRYPOINTS[1], *args])
            return main(args, tag=tag(ctx.image), ctx=ctx)
        sys.stderr.write(
            f"exec: {argv[0]!r}: not emulated in image {ctx.image} (argv {argv!r})\n"
        )
        return EXIT_NOT_FOUND
