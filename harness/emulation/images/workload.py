"""Emulated general-purpose images for workload pods (busybox, pause, agnhost).

Their commands run as the real programs of the node (``sleep``, ``sh``, ``ping``,
``nc`` come from the node's /usr), inside the pod's network namespace; ``pause`` just
sleeps. This is enough for test workloads; it is test emulation, not an image runtime.
"""

from __future__ import annotations

import os
import shutil
import signal
import sys

from harness.emulation.images.base import ContainerContext


class WorkloadImage:
    """Run the container's argv with the node's own binaries."""

    def run(self, argv: list[str], ctx: ContainerContext) -> int:
        if not argv:
            argv = ["sleep", "infinity"] if "pause" not in ctx.image else ["/pause"]
        if argv[0] in ("/pause", "pause"):
            signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
            while True:
                signal.pause()
        program = shutil.which(
            argv[0].rsplit("/", 1)[-1] if argv[0].startswith("/bin/") else argv[0]
        )
        if program is None:
            print(
                f'exec: "{argv[0]}": executable file not found in $PATH',
                file=sys.stderr,
            )
            return 127
        sys.stdout.flush()
        os.execv(program, argv)
        return 127  # pragma: no cover
