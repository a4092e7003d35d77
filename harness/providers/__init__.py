"""Cluster providers behind one small interface (see :mod:`harness.providers.base`).

``PROVIDERS`` maps a provider's name to the class that implements it, as a lazily
imported ``module:Class`` path, so choosing ``sandbox`` never imports kind's Docker
client and a provider whose module cannot be imported fails only when it is chosen,
with the import error in the message. The pytest plugin (``--provider``) and
``cniscrub-lab`` both go through :func:`make_provider`.

>>> sorted(PROVIDERS)
['kind', 'sandbox']
>>> make_provider("nope")
Traceback (most recent call last):
...
harness.providers.base.ProviderError: unknown provider 'nope' (known: kind, sandbox)

A second provider adds one line here and a package under ``harness/providers/``.
"""

from __future__ import annotations

import importlib
from typing import Any

from harness.providers.base import Provider, ProviderError

PROVIDERS: dict[str, str] = {
    "sandbox": "harness.providers.sandbox.provider:SandboxProvider",
    "kind": "harness.providers.kind.provider:KindProvider",
}
DEFAULT_PROVIDER = "sandbox"

__all__ = ["DEFAULT_PROVIDER", "PROVIDERS", "ProviderError", "make_provider"]


def provider_class(name: str) -> type[Any]:
    """Import and return the class registered under ``name``."""
    try:
        path = PROVIDERS[name]
    except KeyError:
        known = ", ".join(sorted(PROVIDERS))
        raise ProviderError(f"unknown provider {name!r} (known: {known})") from None
    module_name, _, attr = path.partition(":")
    try:
        module = importlib.import_module(module_name)
        cls: type[Any] = getattr(module, attr)
        return cls
    except (ImportError, AttributeError) as exc:
        raise ProviderError(
            f"provider {name!r} is registered as {path} but cannot be imported: "
            f"{type(exc).__name__}: {exc}"
        ) from exc


def make_provider(name: str = DEFAULT_PROVIDER, **options: Any) -> Provider:
    """A ready provider instance; ``options`` go to its constructor
    (sandbox: ``home``, ``lifetime_owner``)."""
    provider: Provider = provider_class(name)(**options)
    return provider
