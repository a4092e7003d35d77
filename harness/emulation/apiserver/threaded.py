"""Run the Kubernetes API stand-in (a test stand-in, never a product component) in a
background thread with its own event loop, for synchronous callers: pytest fixtures,
benchmarks, subprocess-driven kubectl tests.

>>> with ThreadedServer() as server:                         # doctest: +SKIP
...     write_kubeconfig(path, server.url, "lab")
...     server.call(server.store.create, "nodes", {"metadata": {"name": "n1"}})
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from .server import RunningServer, start
from .store import Store

__all__ = ["ThreadedServer"]

T = TypeVar("T")


class ThreadedServer:
    """A stand-in served from a daemon thread; ``stop()`` is bounded and idempotent."""

    def __init__(
        self, host: str = "127.0.0.1", port: int = 0, store: Store | None = None
    ) -> None:
        self._host, self._port = host, port
        self._store_arg = store
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="kube-api-standin", daemon=True
        )
        self._server: RunningServer | None = None

    @property
    def url(self) -> str:
        assert self._server is not None, "not started"
        return self._server.url

    @property
    def store(self) -> Store:
        assert self._server is not None, "not started"
        return self._server.store

    def start(self, timeout: float = 10.0) -> ThreadedServer:
        self._thread.start()

        async def _start() -> RunningServer:
            store = self._store_arg if self._store_arg is not None else Store()
            return await start(self._host, self._port, store)

        self._server = self._submit(_start(), timeout)
        return self

    def _submit(self, coro: Any, timeout: float) -> Any:
        future = asyncio.run_coroutine_threadsafe(coro, self._loop)
        try:
            return future.result(timeout)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise

    def call(self, func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run ``func(*args, **kwargs)`` in the server's loop (store calls are not
        thread-safe) and return its result."""

        async def _call() -> T:
            return func(*args, **kwargs)

        return self._submit(_call(), 10.0)

    def stop(self, timeout: float = 10.0) -> None:
        if self._server is not None:
            server, self._server = self._server, None
            try:
                server.store.close()
                self._submit(server.close(), timeout)
            finally:
                self._loop.call_soon_threadsafe(self._loop.stop)
                self._thread.join(timeout)
                if not self._thread.is_alive():
                    self._loop.close()

    def __enter__(self) -> ThreadedServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
