"""Delegate invocation of the flannel CNI plugin emulation (test emulation; §3.2, §3.3).

Finds the delegate (``bridge``) in ``CNI_PATH`` like libcni ``FindInPath`` and execs it
with the caller's environment and ``CNI_COMMAND``, the rendered config on stdin.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

from harness.emulation.flannel.cni_errors import PluginError


def go_marshal(obj: Any) -> bytes:
    """Go json.Marshal of a map: sorted keys, compact."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()


def find_plugin(name: str, cni_path: str) -> str:
    """libcni ``FindInPath``."""
    dirs = [d for d in cni_path.split(":") if d]
    for d in dirs:
        p = os.path.join(d, name)
        if os.path.isfile(p) and os.access(p, os.X_OK):
            return p
    raise PluginError(f'failed to find plugin "{name}" in path [{" ".join(dirs)}]')


def delegate(command: str, conf: dict[str, Any] | bytes, env: dict[str, str]) -> bytes:
    """Exec the delegate plugin with the same env and ``CNI_COMMAND``; its stdout."""
    raw = conf if isinstance(conf, bytes) else go_marshal(conf)
    plugin_type = json.loads(raw).get("type", "")
    path = find_plugin(plugin_type, env.get("CNI_PATH", ""))
    proc = subprocess.run(
        [path], input=raw, env={**env, "CNI_COMMAND": command}, capture_output=True
    )
    sys.stderr.buffer.write(proc.stderr)
    if proc.returncode != 0:
        try:
            err = json.loads(proc.stdout)
            msg = str(err.get("msg", ""))
            if err.get("details"):
                msg += "; " + str(err["details"])
        except (json.JSONDecodeError, AttributeError):
            msg = f"netplugin failed: {proc.stderr.decode(errors='replace')!r}"
        raise PluginError(msg)
    return proc.stdout
