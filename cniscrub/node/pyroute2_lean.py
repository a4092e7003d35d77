"""Import the pyroute2 modules cniscrub uses without pyroute2's package ``__init__``.

``import pyroute2`` imports every API the library has (NDB, IPDB, conntrack, IPVS,
wireguard, nl80211, devlink, ethtool, plan9, ...: about 60 more modules, ~0.06 s of a
``cniscrub`` run that needs two classes). :func:`install` puts a module object for the
``pyroute2`` package into ``sys.modules`` -- same path and spec, its ``__init__`` not
run -- so ``from pyroute2.iproute.linux import IPRoute`` imports only what that module
needs. The first use of a top-level name it would have defined (``pyroute2.IPRoute``,
``from pyroute2 import NDB``) runs the real ``__init__`` into that same module, so other
code in the process that relies on those names keeps working, just without the saving.
If pyroute2 is already imported, nothing changes.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import threading
from types import ModuleType
from typing import Any

_lock = threading.Lock()


def install() -> None:
    """Make ``pyroute2`` importable without its ``__init__`` (idempotent)."""
    with _lock:
        if "pyroute2" in sys.modules:
            return
        spec = importlib.util.find_spec("pyroute2")
        if spec is None or spec.loader is None:
            return  # not installed: the import that follows says so
        module = importlib.util.module_from_spec(spec)
        loader = spec.loader

        def __getattr__(name: str) -> Any:  # PEP 562: names the __init__ would set
            if name in ("__path__", "__file__", "__spec__", "__loader__"):
                raise AttributeError(name)
            if not name.startswith("_"):
                sub = f"pyroute2.{name}"
                if sub in sys.modules or importlib.util.find_spec(sub) is not None:
                    return importlib.import_module(sub)
            _load_all(module, loader)
            return module.__dict__[name] if name in module.__dict__ else _missing(name)

        module.__dict__["__getattr__"] = __getattr__
        sys.modules["pyroute2"] = module


def _load_all(module: ModuleType, loader: Any) -> None:
    """Run the package's own ``__init__`` into ``module`` (once)."""
    with _lock:
        if module.__dict__.pop("__getattr__", None) is not None:
            loader.exec_module(module)


def _missing(name: str) -> Any:
    raise AttributeError(f"module 'pyroute2' has no attribute {name!r}")
