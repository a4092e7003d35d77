"""The exact runtime messages scenarios expect, from the reference (never from the
emulation that produces them, so a wrong emulation fails the check).

fact: flannel-footprint.md §3.4 (the flannel CNI plugin's missing-subnet.env error,
per cni-plugin version: ``loadFlannelSubnetEnv failed: …`` up to v1.7.1-flannel1, the
longer ``failed to load flannel 'subnet.env' file: …`` from v1.7.1-flannel2 on, PR #125)
and §3.5 (how containerd 1.6/1.7, CRI-O/ocicni and dockershim wrap it in the kubelet's
``FailedCreatePodSandBox`` event). The plugin version is the one the manifest ships
(its ``flannel-cni-plugin`` image tag).

>>> plugin_error("v1.7.1-flannel1")[:28]
'loadFlannelSubnetEnv failed:'
>>> plugin_error("v1.9.1-flannel3")[:30]
"failed to load flannel 'subnet"
>>> import re
>>> bool(re.fullmatch(sandbox_error_pattern("containerd-1.7", "v1.7.1-flannel1"),
...   'Failed to create pod sandbox: rpc error: code = Unknown desc = failed to setup '
...   'network for sandbox "' + "a" * 64 + '": plugin type="flannel" failed (add): '
...   'loadFlannelSubnetEnv failed: open /run/flannel/subnet.env: no such file or directory'))
True
"""

from __future__ import annotations

import re
from pathlib import Path

from harness.emulation.flannel.versions import parse_version

OLD = "loadFlannelSubnetEnv failed: open /run/flannel/subnet.env: no such file or directory"
NEW = (
    "failed to load flannel 'subnet.env' file: open /run/flannel/subnet.env: no such file "
    "or directory. Check the flannel pod log for this node."
)
FIRST_NEW = "v1.7.1-flannel2"  # cni-plugin PR #125
PREFIX = "Failed to create pod sandbox: rpc error: code = Unknown desc = "
SID = "[0-9a-f]{64}"
UID = "[0-9a-f-]{36}"
RUNTIME_PATTERNS = {
    "containerd-1.7": PREFIX
    + f'failed to setup network for sandbox "{SID}": '
    + 'plugin type="flannel" failed \\(add\\): {err}',
    "containerd-1.6": PREFIX
    + f'failed to setup network for sandbox "{SID}": '
    + 'plugin type="flannel" failed \\(add\\): {err}',
    "containerd-1.5": PREFIX + f'failed to setup network for sandbox "{SID}": {{err}}',
    "crio": PREFIX
    + f"failed to create pod network sandbox k8s_(?P<pod>[a-z0-9-]+)_default_{UID}_0\\({SID}\\): "
    'error adding pod default_(?P=pod) to CNI network "cbr0": '
    'plugin type="flannel" failed \\(add\\): {err}',
    "dockershim": PREFIX
    + f'failed to set up sandbox container "{SID}" network for pod "(?P<pod>[a-z0-9-]+)": '
    'networkPlugin cni failed to set up pod "(?P=pod)_default" network: {err}',
}
_PLUGIN_IMAGE = re.compile(r"flannel-cni-plugin:(v[0-9][\w.-]*)")


def plugin_error(cni_plugin: str) -> str:
    """The plugin's own missing-subnet.env error for a cni-plugin tag."""
    return NEW if parse_version(cni_plugin) >= parse_version(FIRST_NEW) else OLD


def manifest_cni_plugin(manifest: Path) -> str:
    """The flannel-cni-plugin tag a manifest's init container ships."""
    found = _PLUGIN_IMAGE.findall(manifest.read_text())
    if not found:
        raise ValueError(f"{manifest}: no flannel-cni-plugin image")
    return str(found[0])


def sandbox_error_pattern(runtime: str, cni_plugin: str) -> str:
    """A full-match regex of the kubelet's event for a pod on a rebooted node."""
    if runtime not in RUNTIME_PATTERNS:
        known = ", ".join(RUNTIME_PATTERNS)
        raise ValueError(f"no reference wording for runtime {runtime} (have: {known})")
    return RUNTIME_PATTERNS[runtime].replace(
        "{err}", re.escape(plugin_error(cni_plugin))
    )
