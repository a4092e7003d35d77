"""The cleaner's own image, ``cniscrub:<version>``, in the sandbox's registry (test
emulation of what ``deploy/Dockerfile`` builds).

The real image is a slim Python with iproute2, iptables, nftables and the package in
``/opt/cniscrub`` (``ENTRYPOINT ["cniscrub"]``, ``CMD ["--help"]``, ``PATH`` starting
with ``/opt/cniscrub/bin``). In a sandbox node the *installed* package plays that part:
the ``cniscrub`` console script beside the interpreter that runs the cluster (the same
script ``Cluster.run_cleaner`` runs), and the node's own tools. So the Job of
``deploy/job.yaml`` runs unchanged: command ``cniscrub``, its args, host root at
``/host``. Only the tag the installed package builds (its version) is known; any other
tag fails to pull, as on a cluster whose nodes never loaded it.

>>> CleanerImage.has_tag(__version__), CleanerImage.has_tag("0.0.0-other")
(True, False)
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from cniscrub import __version__
from harness.emulation.images.base import ContainerContext

ENTRYPOINT = "cniscrub"
DEFAULT_ARGS = ("--help",)
SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def image_path() -> str:
    """``PATH`` inside the image: the package's scripts first, as the Dockerfile's
    ``ENV PATH=/opt/cniscrub/bin:$PATH``."""
    return f"{Path(sys.executable).parent}:{SYSTEM_PATH}"


class CleanerImage:
    """Runs the container's argv with the installed cniscrub and the node's tools."""

    @staticmethod
    def has_tag(tag: str) -> bool:
        return tag == __version__

    def run(self, argv: list[str], ctx: ContainerContext) -> int:
        path = image_path()
        argv = list(argv) or [ENTRYPOINT, *DEFAULT_ARGS]
        if not argv[0].startswith("/") and shutil.which(argv[0], path=path) is None:
            argv = [ENTRYPOINT, *argv]  # args without a command: the image's ENTRYPOINT
        program = (
            argv[0] if argv[0].startswith("/") else shutil.which(argv[0], path=path)
        )
        if program is None or not os.access(program, os.X_OK):
            sys.stderr.write(f'exec: "{argv[0]}": executable file not found in $PATH\n')
            return 127
        os.environ.update(PATH=path, PYTHONDONTWRITEBYTECODE="1")
        sys.stdout.flush()
        sys.stderr.flush()
        os.execv(program, argv)
        return 127  # pragma: no cover
