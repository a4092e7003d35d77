"""Which cluster and node a ``cniscrub-lab`` command means, and the exec argv split.

Node names are unique across clusters, like kind's node containers
(``<cluster>-control-plane``, ``<cluster>-worker``, ...): a full node name finds its
cluster on its own. A short name (``worker``, ``control-plane``) is read in the cluster
given with ``--name``, else in the default cluster ``lab``.

>>> split_exec_args(["--name", "barx", "--", "hostname", "-f"])
({'name': 'barx'}, ['hostname', '-f'])
>>> split_exec_args(["ip", "--name", "x"])
({}, ['ip', '--name', 'x'])
"""

from __future__ import annotations

from collections.abc import Sequence

from harness.providers.base import Cluster, Node, Provider, ProviderError

DEFAULT_CLUSTER = "lab"
# exec's own options, accepted after NODE too (before the command): flag -> (key, type)
EXEC_OPTIONS = {"--name": ("name", str), "--timeout": ("timeout", float)}


class UsageError(ProviderError):
    """The command line names something that does not exist or is ambiguous."""


def split_exec_args(argv: Sequence[str]) -> tuple[dict[str, object], list[str]]:
    """Leading exec options (``--name X``, ``--timeout N``, also ``--name=X``) and the
    command after them (an optional ``--`` separates the two)."""
    opts: dict[str, object] = {}
    rest = list(argv)
    while rest and rest[0] != "--":
        flag, eq, value = rest[0].partition("=")
        if flag not in EXEC_OPTIONS:
            break
        if not eq:
            if len(rest) < 2:
                raise UsageError(f"exec: {flag} needs a value")
            value = rest[1]
            rest = rest[1:]
        key, kind = EXEC_OPTIONS[flag]
        opts[key] = kind(value)
        rest = rest[1:]
    return opts, rest[1:] if rest[:1] == ["--"] else rest


def node_in(cluster: Cluster, name: str) -> Node | None:
    """The node called ``name`` or ``<cluster>-name`` in the cluster, or None."""
    names = {n.name: n for n in cluster.nodes}
    return names.get(name) or names.get(f"{cluster.name}-{name}")


def resolve(provider: Provider, node: str, cluster: str | None) -> tuple[Cluster, Node]:
    """The cluster and node a command means (see the module docstring)."""
    if cluster is not None:
        found = provider.get(cluster)
        hit = node_in(found, node)
        if hit is None:
            raise UsageError(_missing(node, [found]))
        return found, hit
    clusters = [provider.get(c) for c in provider.list_clusters()]
    owners = [(c, n) for c in clusters for n in c.nodes if n.name == node]
    if len(owners) == 1:
        return owners[0]
    default = [c for c in clusters if c.name == DEFAULT_CLUSTER]
    hit = node_in(default[0], node) if default else None
    if hit is not None:
        return default[0], hit
    raise UsageError(_missing(node, clusters))


def _missing(node: str, clusters: list[Cluster]) -> str:
    if not clusters:
        return f"no node {node!r}: there is no cluster (cniscrub-lab up)"
    listing = "; ".join(
        f"{c.name}: {', '.join(sorted(n.name for n in c.nodes))}" for c in clusters
    )
    return f"no node {node!r} ({listing})"
