"""--root path safety and file inventory edge cases, on temp directories."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from cniscrub.errors import InventoryError
from cniscrub.footprints.flannel import match
from cniscrub.footprints.flannel_files import PLACES
from cniscrub.inventory import files
from cniscrub.inventory.model import Inventory
from cniscrub.node.rootfs import PathEscapeError, RootFS


def _tree(root: Path, spec: dict[str, str | bytes]) -> None:
    for rel, data in spec.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data.encode() if isinstance(data, str) else data)


def test_symlinked_directory_component_is_refused(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    _tree(outside, {"secret": "x"})
    root = tmp_path / "root"
    (root / "var/lib").mkdir(parents=True)
    (root / "var/lib/cni").symlink_to(outside)
    fs = RootFS(str(root))
    with pytest.raises(PathEscapeError):
        fs.listdir("/var/lib/cni")
    with pytest.raises(PathEscapeError):
        fs.unlink("/var/lib/cni/secret")
    assert (outside / "secret").exists()


def test_dotdot_and_leaf_symlink(tmp_path: Path) -> None:
    _tree(tmp_path / "outside", {"f": "keep"})
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    (root / "etc/link").symlink_to(tmp_path / "outside/f")
    fs = RootFS(str(root))
    with pytest.raises(PathEscapeError):
        fs.lstat("/etc/../../outside/f")
    with pytest.raises(PathEscapeError):
        fs.read("/etc/link")
    fs.unlink("/etc/link")  # removes the link, never its target
    assert (tmp_path / "outside/f").read_text() == "keep"


def test_write_never_overwrites(tmp_path: Path) -> None:
    fs = RootFS(str(tmp_path))
    fs.makedirs("/run/flannel")
    fs.write("/run/flannel/x", [b"1"], 0o640, os.getuid(), os.getgid())
    assert (tmp_path / "run/flannel/x").stat().st_mode & 0o777 == 0o640
    with pytest.raises(FileExistsError):
        fs.write("/run/flannel/x", [b"2"], 0o640, os.getuid(), os.getgid())


def test_collect_flags_huge_binary_and_bad_names(tmp_path: Path) -> None:
    _tree(
        tmp_path,
        {
            "run/flannel/subnet.env": b"\x00\x01",
            "etc/cni/net.d/10-flannel.conflist": "x" * (files.MAX_READ + 1),
        },
    )
    (tmp_path / "var/lib/cni/networks/cbr0").mkdir(parents=True)
    weird = os.fsencode(tmp_path / "var/lib/cni/networks/cbr0") + b"/\xff"
    with open(weird, "wb") as fh:
        fh.write(b"x")
    entries, _ = files.collect(RootFS(str(tmp_path)), PLACES)
    by_path = {e["path"]: e for e in entries}
    assert by_path["/run/flannel/subnet.env"]["error"].startswith("binary")
    assert "too large" in by_path["/etc/cni/net.d/10-flannel.conflist"]["error"]
    inv = Inventory()
    inv.add(files.parse(entries))
    fp = match(inv)
    claimed = {c.resource.key for c in fp.claims}
    assert "/var/lib/cni/networks/cbr0" not in claimed  # keeps an undeletable entry
    assert any("not UTF-8" in x.why for x in fp.left_alone)


@pytest.mark.parametrize("text", ["FLANNEL_NETWORK", "x y z", "=1"])
def test_subnet_env_rejects_garbage(text: str) -> None:
    with pytest.raises(ValueError):
        files.parse_env(text)


def test_malformed_conflist_becomes_parse_error() -> None:
    res = files.parse(
        [
            {
                "path": "/etc/cni/net.d/10-flannel.conflist",
                "type": "file",
                "mode": 0o644,
                "uid": 0,
                "gid": 0,
                "size": 3,
                "text": "[1]",
            }
        ]
    )
    assert "not a JSON object" in res[0].data["parse_error"]


def test_only_allow_listed_directories_are_claimed(tmp_path: Path) -> None:
    _tree(
        tmp_path,
        {
            "var/lib/cni/networks/podman/1.2.3.4": "a",
            "var/lib/cni/networks/cbr0/10.244.1.5": "b",
            "var/lib/cni/other/x": "c",
        },
    )
    entries, _ = files.collect(RootFS(str(tmp_path)))
    inv = Inventory()
    inv.add(files.parse(entries))
    claimed = {c.resource.key for c in match(inv).claims}
    assert claimed == {
        "/var/lib/cni/networks/cbr0",
        "/var/lib/cni/networks/cbr0/10.244.1.5",
    }


def test_inventory_error_is_a_cleaner_error() -> None:
    from cniscrub.errors import CleanerError

    assert issubclass(PathEscapeError, InventoryError)
    assert issubclass(InventoryError, CleanerError)
