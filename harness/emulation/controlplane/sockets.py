"""Listening sockets for the API stand-in: one on 127.0.0.1 in the host namespace (for
kubectl and tests), one on 198.18.0.1:6443 inside the cluster's fabric namespace (for
everything inside the nodes, which reach it over the underlay). A socket stays in the
namespace it was created in, so the second one is made after a thread-local ``setns``
into the fabric and the thread switches back right away; the host namespace is never
changed."""

from __future__ import annotations

import ctypes
import os
import socket
import threading

CLONE_NEWNET = 0x40000000
IN_CLUSTER_HOST = "198.18.0.1"
IN_CLUSTER_PORT = 6443
# what the serving certificate names: the fabric address and the default service IP
IN_CLUSTER_IPS = (IN_CLUSTER_HOST, "10.96.0.1")

_libc = ctypes.CDLL(None, use_errno=True)


def _setns(fd: int) -> None:
    if _libc.setns(fd, CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"setns: {os.strerror(err)}")


def listen(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(256)
    sock.setblocking(False)
    return sock


def listen_in_netns(netns_path: str, host: str, port: int) -> socket.socket:
    """Create the listening socket inside another network namespace."""
    result: list[socket.socket | BaseException] = []

    def work() -> None:  # a throwaway thread: its namespace switch dies with it
        try:
            target = os.open(netns_path, os.O_RDONLY)
            try:
                _setns(target)
            finally:
                os.close(target)
            result.append(listen(host, port))
        except BaseException as exc:
            result.append(exc)

    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    if isinstance(result[0], BaseException):
        raise result[0]
    return result[0]
