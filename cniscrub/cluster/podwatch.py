"""This run's pods, as a watch on the API reports them: a background thread streams
the pods labelled ``cniscrub.io/run=<run id>`` into a queue, starting the watch again
when the server ends it (every few seconds, or with ``410 Gone``).
"""

from __future__ import annotations

import logging
import queue
import threading
from typing import Any

from cniscrub.cluster.api import Api
from cniscrub.cluster.jobs import RUN_LABEL

__all__ = ["PodFeed"]

log = logging.getLogger(__name__)
WATCH_SECONDS = 5
Obj = dict[str, Any]


class PodFeed:
    """Pods of one run, from a watch in a background thread (restarted as needed)."""

    def __init__(self, api: Api, namespace: str, run_id: str) -> None:
        self.api, self.namespace = api, namespace
        self.selector = f"{RUN_LABEL}={run_id}"
        self.events: queue.Queue[tuple[str, Obj]] = queue.Queue()
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._loop, name="pod-watch", daemon=True
        )
        self._thread.start()

    def _loop(self) -> None:
        version: str | None = None
        while not self._stop.is_set():
            try:
                for type_, pod in self.api.watch_pods(
                    self.namespace, self.selector, WATCH_SECONDS, version
                ):
                    if type_ == "ERROR":  # e.g. 410 Gone: list again
                        version = None
                        break
                    version = pod.get("metadata", {}).get("resourceVersion") or version
                    if type_ != "BOOKMARK":
                        self.events.put((type_, pod))
                    if self._stop.is_set():
                        return
            except Exception as exc:  # the server went away for a moment
                log.debug("pod watch: %s", exc)
                version = None
                self._stop.wait(0.5)

    def drain(self, timeout: float) -> list[tuple[str, Obj]]:
        try:
            out = [self.events.get(timeout=timeout)]
        except queue.Empty:
            return []
        while not self.events.empty():
            out.append(self.events.get_nowait())
        return out

    def stop(self) -> None:
        self._stop.set()
