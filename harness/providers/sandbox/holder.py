"""The process that *is* a sandbox node (or the underlay fabric).

Started by the provider as ``unshare --net --mount --uts --ipc --pid --fork --mount-proc
python -S -I holder.py SPEC`` so it runs as PID 1 of the node's PID namespace. It mounts
the node's filesystem view (sysfs for its own netns, overlayfs over /etc /opt /var, a
tmpfs on /run), sets the hostname, prints ``ready`` on stdout and then only reaps
orphans. As a PID-namespace init it ignores SIGTERM from outside; the provider SIGKILLs
it, which kills every process of the node and releases all of its namespaces.

Standard library only, so it starts in milliseconds and stays small (100 nodes = 100
holders). SPEC is a JSON object::

    {"mode": "node", "hostname": "lab-worker",
     "overlays": [{"target": "/etc", "lower": ["/img/etc", "/etc"],
                   "upper": "/state/.../upper/etc", "work": "/state/.../work/etc"}],
     "run_size": "256m", "sysctls": {"net/ipv4/ip_forward": "1"}}

``{"mode": "fabric"}`` only waits (the fabric needs no mounts).
"""

from __future__ import annotations

import ctypes
import json
import os
import signal
import socket
import sys

MS_NOSUID = 2
MS_NODEV = 4
MS_NOEXEC = 8

_libc = ctypes.CDLL(None, use_errno=True)
_libc.mount.argtypes = [ctypes.c_char_p] * 3 + [ctypes.c_ulong, ctypes.c_char_p]


def mount(
    source: str, target: str, fstype: str, flags: int = 0, data: str = ""
) -> None:
    rc = _libc.mount(
        source.encode(), target.encode(), fstype.encode(), flags, data.encode() or None
    )
    if rc != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"mount {fstype} on {target} ({data}): {os.strerror(err)}")


def setup_node(spec: dict) -> None:
    mount("sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    for ov in spec.get("overlays", []):
        opts = "lowerdir={},upperdir={},workdir={}".format(
            ":".join(ov["lower"]), ov["upper"], ov["work"]
        )
        mount("overlay", ov["target"], "overlay", 0, opts)
    mount(
        "tmpfs",
        "/run",
        "tmpfs",
        MS_NOSUID | MS_NODEV,
        f"mode=755,size={spec['run_size']}",
    )
    for sub in ("lock", "netns"):
        os.makedirs(f"/run/{sub}", mode=0o755, exist_ok=True)
    socket.sethostname(spec["hostname"])
    for key, value in spec.get("sysctls", {}).items():
        with open(f"/proc/sys/{key}", "w") as fh:
            fh.write(value)


def reap_forever() -> None:
    """Reap every child (orphans are reparented to us) and ignore termination."""
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGQUIT):
        signal.signal(sig, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGCHLD})
    while True:
        while True:
            try:
                pid, _ = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break
        signal.sigwaitinfo({signal.SIGCHLD})


def main() -> int:
    arg = sys.argv[1]
    if arg.startswith("{"):
        spec = json.loads(arg)
    else:
        with open(arg) as fh:
            spec = json.load(fh)
    try:
        if spec.get("mode") == "node":
            setup_node(spec)
    except OSError as exc:
        sys.stdout.write(f"error {exc}\n")
        sys.stdout.flush()
        return 1
    os.chdir("/")
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    reap_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
