"""``cniscrub-lab`` finds a node's cluster from its full name and keeps exec's own
options out of the command (issue 10, "found as a new user")."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from harness.cli.nodes import UsageError, resolve, split_exec_args


@dataclass
class FakeNode:
    name: str


@dataclass
class FakeCluster:
    name: str
    nodes: list[FakeNode] = field(default_factory=list)


class FakeProvider:
    name = "fake"

    def __init__(self, *clusters: str) -> None:
        self.clusters = {
            c: FakeCluster(c, [FakeNode(f"{c}-control-plane"), FakeNode(f"{c}-worker")])
            for c in clusters
        }

    def list_clusters(self) -> list[str]:
        return sorted(self.clusters)

    def get(self, name: str) -> FakeCluster:
        return self.clusters[name]


def names(found: tuple[object, object]) -> tuple[str, str]:
    cluster, node = found
    return cluster.name, node.name  # type: ignore[attr-defined]


def test_a_full_node_name_finds_its_cluster() -> None:
    prov = FakeProvider("lab", "barx")
    assert names(resolve(prov, "barx-worker", None)) == ("barx", "barx-worker")  # type: ignore[arg-type]
    assert names(resolve(FakeProvider("barx"), "barx-control-plane", None)) == (  # type: ignore[arg-type]
        "barx",
        "barx-control-plane",
    )


def test_short_names_use_name_or_the_default_cluster() -> None:
    prov = FakeProvider("lab", "barx")
    assert names(resolve(prov, "worker", None)) == ("lab", "lab-worker")  # type: ignore[arg-type]
    assert names(resolve(prov, "worker", "barx")) == ("barx", "barx-worker")  # type: ignore[arg-type]
    assert names(resolve(prov, "barx-worker", "barx")) == ("barx", "barx-worker")  # type: ignore[arg-type]


def test_unknown_node_lists_what_exists() -> None:
    with pytest.raises(
        UsageError, match=r"no node 'worker' \(barx: barx-control-plane"
    ):
        resolve(FakeProvider("barx"), "worker", None)  # type: ignore[arg-type]
    with pytest.raises(UsageError, match="no node 'lab-worker' \\(barx: "):
        resolve(FakeProvider("barx"), "lab-worker", "barx")  # type: ignore[arg-type]
    with pytest.raises(UsageError, match="there is no cluster"):
        resolve(FakeProvider(), "worker", None)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("argv", "opts", "command"),
    [
        (["--name", "barx", "--", "hostname"], {"name": "barx"}, ["hostname"]),
        (["--name=barx", "hostname", "-f"], {"name": "barx"}, ["hostname", "-f"]),
        (
            ["--timeout", "5", "--name", "b", "--", "id"],
            {"timeout": 5.0, "name": "b"},
            ["id"],
        ),
        (["--", "sh", "-c", "echo --name"], {}, ["sh", "-c", "echo --name"]),
        (["ip", "--name", "x"], {}, ["ip", "--name", "x"]),  # the command's own flags
        ([], {}, []),
    ],
)
def test_exec_options_after_the_node_are_exec_options(
    argv: list[str], opts: dict[str, object], command: list[str]
) -> None:
    assert split_exec_args(argv) == (opts, command)


def test_exec_option_without_value_is_an_error() -> None:
    with pytest.raises(UsageError, match="--name needs a value"):
        split_exec_args(["--name"])
