"""CNI config selection as container runtimes do it (test emulation, pure).

fact: harness-anchors.md §5 "Which file a runtime uses":
- containerd (go-cni, 1.5/1.6/1.7): list ``*.conf``, ``*.conflist``, ``*.json``, sort
  lexically, walk; the FIRST file that fails to parse, has an empty ``type`` or no
  plugins aborts the whole load (``cni plugin not initialized``); stop after one valid
  network.
- CRI-O (ocicni) and dockershim: same sort, but invalid files are logged and skipped;
  both also skip a list whose plugin binaries are missing (libcni
  ``ValidateNetworkList``; inferred from their source, not in the reference).

A single ``.conf``/``.json`` is converted to a list like libcni ``ConfListFromConf``.
Parse errors use libcni v1 and Go ``encoding/json`` wording (see ``gofmt``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from harness.emulation.runtime.gofmt import go_marshal, go_unmarshal_object
from harness.matrix import RUNTIMES  # the one list of runtimes

__all__ = [
    "RUNTIMES",
    "LoadError",
    "NetworkList",
    "Selected",
    "parse_conf",
    "parse_conflist",
    "select_network",
]

log = logging.getLogger(__name__)

EXTENSIONS = (".conf", ".conflist", ".json")
_ERR_INVALID = "invalid cni config"
_ERR_NOT_INIT = "cni plugin not initialized"


@dataclass(frozen=True)
class NetworkList:
    """A parsed network configuration list (libcni ``NetworkConfigList``)."""

    name: str
    cni_version: str
    plugins: list[dict[str, Any]]
    raw: bytes
    source: str = ""


@dataclass(frozen=True)
class Selected:
    """The network a runtime would use, and the files it skipped (ocicni/dockershim)."""

    network: NetworkList
    skipped: list[tuple[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class LoadError:
    """The config load failed: the runtime reports NetworkReady=false."""

    message: str
    skipped: list[tuple[str, str]] = field(default_factory=list)

    @property
    def load_status(self) -> str:
        """containerd's ``lastCNILoadStatus`` text (go-cni ``Load`` wrapping)."""
        return f"cni config load failed: {self.message}: failed to load cni config"


class ConfError(ValueError):
    """A libcni parse error; ``str()`` is libcni's text."""


def parse_conflist(data: bytes, source: str = "") -> NetworkList:
    """Parse a ``.conflist`` like libcni ``ConfListFromBytes`` (v1.x wording)."""
    raw, err = go_unmarshal_object(data)
    if raw is None:
        raise ConfError(f"error parsing configuration list: {err}")
    if "name" not in raw:
        raise ConfError("error parsing configuration list: no name")
    name = raw["name"]
    if not isinstance(name, str):
        raise ConfError("error parsing configuration list: invalid name type")
    version = raw.get("cniVersion", "")
    if not isinstance(version, str):
        raise ConfError("error parsing configuration list: invalid cniVersion type")
    if "plugins" not in raw:
        raise ConfError("error parsing configuration list: no 'plugins' key")
    plugins = raw["plugins"]
    if not isinstance(plugins, list):
        raise ConfError("error parsing configuration list: invalid 'plugins' type")
    if not plugins:
        raise ConfError("error parsing configuration list: no plugins in list")
    for index, plugin in enumerate(plugins):
        try:
            _check_plugin(plugin)
        except ConfError as exc:
            raise ConfError(f"failed to parse plugin config {index}: {exc}") from None
    return NetworkList(name, version, list(plugins), data, source)


def _check_plugin(plugin: Any) -> None:
    if not isinstance(plugin, dict):
        raise ConfError(
            "error parsing configuration: json: cannot unmarshal "
            "value into Go value of type types.NetConf"
        )
    kind = plugin.get("type", "")
    if not isinstance(kind, str):
        raise ConfError(
            "error parsing configuration: json: cannot unmarshal number into Go "
            "struct field NetConf.type of type string"
        )
    if kind == "":
        raise ConfError("error parsing configuration: missing 'type'")


def parse_conf(data: bytes, source: str = "") -> NetworkList:
    """Parse a single ``.conf``/``.json`` and convert it (``ConfListFromConf``)."""
    raw, err = go_unmarshal_object(data)
    if raw is None:
        raise ConfError(f"error parsing configuration: {err}")
    _check_plugin(raw)
    name = raw.get("name", "")
    version = raw.get("cniVersion", "")
    listed = {"cniVersion": version, "name": name, "plugins": [raw]}
    return NetworkList(str(name), str(version), [raw], go_marshal(listed), source)


def _load_one(conf_dir: str, name: str, data: bytes | None) -> NetworkList:
    path = f"{conf_dir.rstrip('/')}/{name}"
    if data is None:
        raise ConfError(f"error reading {path}: open {path}: no such file or directory")
    if name.endswith(".conflist"):
        try:
            return parse_conflist(data, name)
        except ConfError as exc:
            raise ConfError(
                f"failed to load CNI config list file {path}: {exc}"
            ) from None
    try:
        return parse_conf(data, name)
    except ConfError as exc:
        raise ConfError(f"failed to load CNI config file {path}: {exc}") from None


def select_network(
    conf_dir_listing: list[tuple[str, bytes | None]],
    runtime: str = "containerd-1.7",
    *,
    conf_dir: str = "/etc/cni/net.d",
    plugin_available: Callable[[str], bool] | None = None,
) -> Selected | LoadError:
    """Pick the network ``runtime`` would use from ``(file name, content)`` pairs.

    ``content`` None means the file could not be read (e.g. a dangling symlink).
    ``plugin_available`` (ocicni/dockershim only) tells whether a plugin binary exists.
    """
    if runtime not in RUNTIMES:
        raise ValueError(f"unknown runtime {runtime!r}; choose from {RUNTIMES}")
    files = sorted(item for item in conf_dir_listing if item[0].endswith(EXTENSIONS))
    strict = runtime.startswith("containerd")
    if not files:
        if strict:
            return LoadError(f"no network config found in {conf_dir}: {_ERR_NOT_INIT}")
        return LoadError(f"no networks found in {conf_dir}")
    skipped: list[tuple[str, str]] = []
    for name, data in files:
        try:
            network = _load_one(conf_dir, name, data)
        except ConfError as exc:
            if strict:
                return LoadError(f"{exc}: {_ERR_INVALID}")
            log.info("skipping invalid CNI config %s: %s", name, exc)
            skipped.append((name, str(exc)))
            continue
        if not strict and plugin_available is not None:
            missing = [
                p["type"] for p in network.plugins if not plugin_available(p["type"])
            ]
            if missing:
                reason = f'failed to find plugin "{missing[0]}"'
                log.info("skipping CNI config %s: %s", name, reason)
                skipped.append((name, reason))
                continue
        if not network.name and not strict:
            network = NetworkList(
                name, network.cni_version, network.plugins, network.raw, name
            )
        return Selected(network, skipped)
    return LoadError(f"no valid networks found in {conf_dir}", skipped)
