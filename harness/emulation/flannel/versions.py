"""Per-version behaviour of Flannel and its CNI plugin (test emulation, pure data).

Every entry cites ``flannel-footprint.md`` (``/work/shared/reference/``). Behaviour is
derived from version *ranges*, so a user manifest with any tag from v0.22.0 on resolves:

>>> flannel_version("v0.26.7").shutdown
<Shutdown.REMOVE_RULES: 'remove-rules'>
>>> flannel_version("v0.27.3").cni_plugin
'v1.7.1-flannel1'
>>> missing_subnet_env_error("v1.8.0-flannel1", "E")[:40]
"failed to load flannel 'subnet.env' file"
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

Version = tuple[int, int, int, int]

_VERSION_RE = re.compile(r"^v?(\d+)\.(\d+)\.(\d+)(?:-flannel(\d+))?")


def parse_version(tag: str) -> Version:
    """``v1.7.1-flannel2`` -> (1, 7, 1, 2); a plain tag has flannel build 0.

    >>> parse_version("v0.28.9")
    (0, 28, 9, 0)
    """
    m = _VERSION_RE.match(tag)
    if m is None:
        raise ValueError(f"unparsable version tag {tag!r}")
    major, minor, patch, build = m.groups()
    return int(major), int(minor), int(patch), int(build or 0)


class Shutdown(StrEnum):
    """What flanneld removes on SIGTERM (§2.6)."""

    NONE = "none"  # v0.22.0-v0.24.4: teardown defer never runs
    REMOVE_RULES = "remove-rules"  # v0.25-v0.26: rules removed, empty chains, nft gone
    CLEAN_AT_START = "clean-at-start"  # v0.27+: nothing removed; other mode at start


class Install(StrEnum):
    """How the ``install-cni`` init container writes the conflist (§1.3)."""

    CP = "cp"  # cp -f, v0.22.0-v0.28.5
    INSTALL_CONF = "install-conf"  # atomic temp + rename, v0.28.6+


@dataclass(frozen=True)
class FlannelVersion:
    """Behaviour switches of one flanneld / kube-flannel.yml version."""

    tag: str
    cni_plugin: str  # cni-plugin tag the manifest ships (§1.4)
    registry: str  # image registry prefix (§1.4, §1.5: ghcr.io from v0.26.4)
    install: Install  # §1.3, §1.5
    shutdown: Shutdown  # §2.6
    br_netfilter_check: bool  # §2.1: from v0.26.0
    br_netfilter_skip_with_nft: bool  # §2.1: from v0.28.0 (e327625e)
    nftables: bool  # §1.2, §2.5: EnableNFTables from v0.25.0
    clustercidrs_rbac: bool  # §1.1: v0.22.0-v0.24.4 only
    cont_when_cache_not_ready_env: bool  # §1.3: from v0.27.4
    healthz_probes: bool  # §1.3: from v0.28.9 (PR #2523)
    vxlan_device_watch: bool  # §2.3: watchVXLANDevice from v0.27.4
    blackhole_route_flag: bool  # §2.1: --ip-blackhole-route from v0.28

    @property
    def plugin(self) -> CNIPluginVersion:
        """Wording of the cni-plugin this version's manifest installs (§3.4)."""
        return cni_plugin_version(self.cni_plugin)

    @property
    def subnet_env_missing_error(self) -> str:
        """The exact CNI ADD error after the manifest's uninstall + reboot (§3.4)."""
        err = "open /run/flannel/subnet.env: no such file or directory"
        return missing_subnet_env_error(self.cni_plugin, err)

    @property
    def flannel_image(self) -> str:
        """The flannel image reference (§1.4)."""
        return f"{self.registry}/flannel:{self.tag}"

    @property
    def cni_plugin_image(self) -> str:
        """The flannel-cni-plugin image reference (§1.4)."""
        return f"{self.registry}/flannel-cni-plugin:{self.cni_plugin}"


# §1.4 table: (first flannel version of the range, cni-plugin tag shipped)
_CNI_PLUGIN_BY_FLANNEL: list[tuple[Version, str]] = [
    ((0, 22, 0, 0), "v1.1.2"),
    ((0, 22, 1, 0), "v1.2.0"),
    ((0, 24, 2, 0), "v1.4.0-flannel1"),
    ((0, 25, 2, 0), "v1.4.1-flannel1"),
    ((0, 25, 5, 0), "v1.5.1-flannel1"),
    ((0, 25, 6, 0), "v1.5.1-flannel2"),
    ((0, 26, 2, 0), "v1.6.0-flannel1"),
    ((0, 26, 4, 0), "v1.6.2-flannel1"),
    ((0, 27, 0, 0), "v1.7.1-flannel1"),
    # v0.27.4 and v0.28.0 ship v1.8.0-flannel1; v0.28.1-v0.28.8 are not in the
    # reference, assumed unchanged until v0.28.9.
    ((0, 27, 4, 0), "v1.8.0-flannel1"),
    ((0, 28, 9, 0), "v1.9.1-flannel3"),
]


def flannel_version(tag: str) -> FlannelVersion:
    """Behaviour of flannel ``tag`` (v0.22.0 or later)."""
    v = parse_version(tag)
    if v < (0, 22, 0, 0):
        raise ValueError(f"flannel {tag} predates the reference (v0.22.0+)")
    plugin = next(p for start, p in reversed(_CNI_PLUGIN_BY_FLANNEL) if v >= start)
    return FlannelVersion(
        tag=tag,
        cni_plugin=plugin,
        registry="ghcr.io/flannel-io" if v >= (0, 26, 4, 0) else "docker.io/flannel",
        install=Install.INSTALL_CONF if v >= (0, 28, 6, 0) else Install.CP,
        shutdown=(
            Shutdown.NONE
            if v < (0, 25, 0, 0)
            else Shutdown.REMOVE_RULES
            if v < (0, 27, 0, 0)
            else Shutdown.CLEAN_AT_START
        ),
        br_netfilter_check=v >= (0, 26, 0, 0),
        br_netfilter_skip_with_nft=v >= (0, 28, 0, 0),
        nftables=v >= (0, 25, 0, 0),
        clustercidrs_rbac=v < (0, 25, 0, 0),
        cont_when_cache_not_ready_env=v >= (0, 27, 4, 0),
        healthz_probes=v >= (0, 28, 9, 0),
        vxlan_device_watch=v >= (0, 27, 4, 0),
        blackhole_route_flag=v >= (0, 28, 0, 0),
    )


LATEST_FLANNEL = "v0.28.9"  # newest version in the reference (§1.4 HEAD)
LATEST_CNI_PLUGIN = "v1.9.1-flannel3"


def known_tag(tag: str, latest: str) -> str:
    """``tag`` when it parses as a version, else ``latest`` (``:latest``, digests).

    >>> known_tag("latest", LATEST_FLANNEL)
    'v0.28.9'
    """
    try:
        parse_version(tag)
    except ValueError:
        return latest
    return tag


@dataclass(frozen=True)
class CNIPluginVersion:
    """Error wording of one flannel cni-plugin release (§3.3, §3.4)."""

    tag: str
    subnet_env_format: str  # wraps any loadFlannelSubnetEnv error, {err}
    netconf_format: str  # wraps a stdin netconf parse error, {err}
    bad_scratch_is_warning: bool  # §3.3: v1.1.2+ warns and succeeds


_RAW = "{err}"  # §3.4: <= v1.1.0, the raw os error
_LOAD_FAILED = "loadFlannelSubnetEnv failed: {err}"  # §3.4: v1.1.2 - v1.7.1-flannel1
_PR125 = (  # §3.4: v1.7.1-flannel2+ (cni-plugin PR #125, commit 18df61d)
    "failed to load flannel 'subnet.env' file: {err}. "
    "Check the flannel pod log for this node."
)


def cni_plugin_version(tag: str) -> CNIPluginVersion:
    """Wording of cni-plugin ``tag`` (e.g. ``v1.7.1-flannel1``)."""
    v = parse_version(tag)
    newer = v >= (1, 7, 1, 2)
    return CNIPluginVersion(
        tag=tag,
        subnet_env_format=(
            _PR125 if newer else _LOAD_FAILED if v >= (1, 1, 2, 0) else _RAW
        ),
        # §3.4 "Bad stdin": newer vs older wording (the PR #125 split is inferred)
        netconf_format=(
            "failed to load flannel netconf file: failed to load netconf: {err}"
            if newer
            else "failed to load netconf: {err}"
        ),
        bad_scratch_is_warning=v >= (1, 1, 2, 0),
    )


def missing_subnet_env_error(plugin_tag: str, err: str) -> str:
    """The ADD error of ``plugin_tag`` for a loadFlannelSubnetEnv failure ``err``."""
    return cni_plugin_version(plugin_tag).subnet_env_format.format(err=err)
