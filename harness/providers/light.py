"""Light nodes: one network namespace and a root directory, no cluster, no kubelet.

The speed choice for tests that need real kernel state on one node (the cleaner's
sandbox tests, the Flannel and runtime emulation tests): creating one costs an
``ip netns add``. A light node implements :class:`harness.providers.base.Node`, so
:mod:`harness.checks`, testinfra (``node.host``) and the shipped cleaner see it like any
node: ``exec`` runs in its network namespace with its file view (``/etc``, ``/opt``,
``/var`` overlaid with ``root/...``, ``/run`` = ``root/run``; see
:mod:`harness.providers.lightns`), and ``read_file``/``write_file`` act on that view.
Between commands ``root`` holds plain files, so a cleaner run with ``--root ROOT``
(production's ``--root /host``) sees the same tree. A light node cannot reboot or power
off (nothing would survive: it is only a namespace); use a cluster node for that.

Everything made is recorded in :data:`CREATED`, and :func:`leftovers` is the one leak
check the sandbox tests share.

>>> node = LightNode.create(tmp_path / "n1")          # doctest: +SKIP
>>> node.exec(["ip", "-br", "link"]).stdout          # doctest: +SKIP
'lo               UNKNOWN        00:00:00:00:00:00 <LOOPBACK,UP,LOWER_UP> \\n'
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from cniscrub.node.command import CommandResult, as_argv
from harness.providers.execution import run_entering

if TYPE_CHECKING:
    from testinfra.host import Host

LIGHTNS = Path(__file__).with_name("lightns.py")
TIMEOUT = 60.0
OWN_DIRS = ("etc", "opt", "var", "run")  # what the node's root holds
# network namespaces created by this process (other runs may work on this machine at
# the same time: leak checks look only at ours)
CREATED: set[str] = set()
NOT_A_MACHINE = (
    "a light node is one network namespace, not a machine: it cannot {what}; "
    "use a cluster node (the cluster_factory fixture) for that"
)


def run(argv: Sequence[str], input: str | None = None, check: bool = True) -> str:
    """Run argv on the host (never a shell string); its stdout."""
    res = subprocess.run(
        list(argv), input=input, capture_output=True, text=True, timeout=TIMEOUT
    )
    if check and res.returncode != 0:
        raise RuntimeError(
            f"{argv} failed ({res.returncode}): {res.stderr}{res.stdout}"
        )
    return res.stdout


def add_netns(name: str) -> str:
    """``ip netns add`` + lo up + no IPv6 DAD (addresses final at once); recorded."""
    CREATED.add(name)
    run(["ip", "netns", "add", name])
    for conf in ("all", "default"):
        key = f"net.ipv6.conf.{conf}.accept_dad=0"
        run(["ip", "netns", "exec", name, "sysctl", "-qw", key])
    run(["ip", "-n", name, "link", "set", "lo", "up"])
    return name


def del_netns(name: str) -> None:
    subprocess.run(["ip", "netns", "del", name], capture_output=True, timeout=TIMEOUT)


class LightNode:
    """Node ``name``: network namespace ``ns`` (default: the name), files under ``root``."""

    role = "worker"

    def __init__(
        self, name: str, root: Path, address: str = "", netns: str | None = None
    ) -> None:
        self._name = name
        self.ns = netns or name
        self.root = root
        self._address = address
        self.extra_netns: list[str] = []  # pods' namespaces, destroyed with the node

    @classmethod
    def create(cls, root: Path, name: str | None = None) -> LightNode:
        """A new node: its namespace made, its root directories ready."""
        node = cls(name or f"lt-{secrets.token_hex(4)}", root)
        node.make()
        return node

    def make(self) -> None:
        for sub in OWN_DIRS:
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        add_netns(self.ns)

    def __repr__(self) -> str:
        return f"<light node {self.name} {self.root}>"

    @property
    def name(self) -> str:
        return self._name

    @property
    def address(self) -> str:
        return self._address

    @address.setter
    def address(self, value: str) -> None:
        self._address = value

    # --- Node protocol -----------------------------------------------------------
    def wrap(self, argv: Sequence[str]) -> list[str]:
        """The host-side argv that runs ``argv`` in this node (netns + file view)."""
        work = f"{self.root}.work"  # overlay work dirs: beside root, never inside
        return ["ip", "netns", "exec", self.ns, sys.executable, "-S", "-I",
                str(LIGHTNS), str(self.root), work, "--", *argv]  # fmt: skip

    def exec(
        self,
        argv: Sequence[str],
        *,
        input: bytes | str | None = None,
        check: bool = True,
        timeout: float = 120.0,
        env: dict[str, str] | None = None,
    ) -> CommandResult:
        args = as_argv(argv)
        return self._run(args, self.wrap(args), input, check, timeout, env)

    def net_exec(
        self,
        argv: Sequence[str],
        *,
        input: bytes | str | None = None,
        check: bool = True,
    ) -> CommandResult:
        """argv in the node's network namespace only (the host's files): the fast path
        for building or dumping kernel state (``iptables-restore``, ``nft``, ``ip -j``)."""
        args = as_argv(argv)
        host_argv = ["ip", "netns", "exec", self.ns, *args]
        return self._run(args, host_argv, input, check, TIMEOUT, None)

    def _run(
        self,
        args: tuple[str, ...],
        host_argv: list[str],
        input: bytes | str | None,
        check: bool,
        timeout: float,
        env: dict[str, str] | None,
    ) -> CommandResult:
        return run_entering(
            args,
            host_argv,
            where=f"light node {self.name}",
            input=input,
            check=check,
            timeout=timeout,
            env={**os.environ, **(env or {})},
        )

    def path(self, path: str) -> Path:
        """Where a node path lives on the host (``/etc/x`` -> ``root/etc/x``)."""
        rel = Path(path).relative_to("/")
        if not rel.parts or rel.parts[0] not in OWN_DIRS:
            raise ValueError(f"{path}: a light node owns only /{', /'.join(OWN_DIRS)}")
        return self.root / rel

    def read_file(self, path: str) -> bytes:
        own = self.path(path)
        if own.exists() or own.is_symlink():
            if own.is_char_device():  # an overlay whiteout: deleted in the node
                raise FileNotFoundError(f"{self.name}:{path}")
            return own.read_bytes()
        if own.parts[len(self.root.parts)] != "run" and Path(path).is_file():
            return Path(path).read_bytes()  # the host's lower layer
        raise FileNotFoundError(f"{self.name}:{path}")

    def write_file(self, path: str, data: bytes | str, mode: int = 0o644) -> None:
        target = self.path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data.encode() if isinstance(data, str) else data)
        target.chmod(mode)

    def reboot(self) -> None:
        raise NotImplementedError(NOT_A_MACHINE.format(what="reboot"))

    def stop(self) -> None:
        raise NotImplementedError(NOT_A_MACHINE.format(what="power off"))

    def start(self) -> None:
        raise NotImplementedError(NOT_A_MACHINE.format(what="power on"))

    @cached_property
    def host(self) -> Host:
        from harness.providers.testinfra_backend import host_for

        return host_for(self)

    # --- fast host-side helpers (no file view needed) ------------------------------
    def ip(self, *args: str) -> str:
        """``ip -n NODE ARGS``: netlink from the host, the cheapest way to build state."""
        return run(["ip", "-n", self.ns, *args])

    def add_netns(self, suffix: str) -> str:
        """A further namespace (a pod) that goes with the node."""
        name = add_netns(f"{self.ns}-{suffix}")
        self.extra_netns.append(name)
        return name

    def destroy(self) -> None:
        for name in [*reversed(self.extra_netns), self.ns]:
            del_netns(name)


def leftovers(created: set[str] | None = None) -> list[str]:
    """Namespaces this process created that still exist, and mounts that name them
    (the shared leak check of the sandbox tests)."""
    names = CREATED if created is None else created
    listing = run(["ip", "netns", "list"], check=False)
    alive = {line.split()[0] for line in listing.splitlines() if line.strip()}
    mounts = run(["findmnt", "-rn", "-o", "TARGET"], check=False).splitlines()
    return sorted(alive & names) + [
        m for m in mounts if any(m.endswith(f"/{n}") for n in names)
    ]
