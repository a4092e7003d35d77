"""The audit log of the Kubernetes API stand-in (a test stand-in, never a product
component), as kube-apiserver writes it with ``--audit-log-path`` and a policy of level
``Metadata``: one ``audit.k8s.io/v1`` ``Event`` per request, as a JSON line, at stage
``ResponseComplete`` (method, path, time, user, user agent, object, status code).

Who asked: an HTTP request is attributed to its ``User-Agent`` (and, without
authentication, to ``system:anonymous``). The in-process components of the sandbox's
control plane (kubelets, controllers) call the store directly; on a real cluster each of
their writes is an HTTP request under their own identity, so they run
``with acting_as(kubelet(node))`` (or a controller's :class:`Actor`) and an
:class:`AuditedStore` records their writes as the requests they stand for.

Tests read the file with :func:`read_events` to assert the order of requests.

>>> verb_of("GET", has_name=False, watch=True)
'watch'
>>> kubelet("lab-worker").user
'system:node:lab-worker'
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from .errors import ApiError
from .resources import ResourceType, lookup
from .store import Store

__all__ = [
    "ACTOR",
    "Actor",
    "AuditLog",
    "AuditedStore",
    "acting_as",
    "controller",
    "kubelet",
    "read_events",
    "verb_of",
]

KUBE_VERSION = "v1.32.4"
_PLATFORM = "(linux/amd64) kubernetes/0000000"


@dataclass(frozen=True)
class Actor:
    """Who makes a request: user name, groups and user agent; ``via_http`` when the
    request came over HTTP (recorded by the server, not by the store)."""

    user: str
    user_agent: str
    groups: tuple[str, ...] = ()
    via_http: bool = False


def kubelet(node: str) -> Actor:
    """The identity of the kubelet of ``node`` (its client certificate's user)."""
    return Actor(
        f"system:node:{node}",
        f"kubelet/{KUBE_VERSION} {_PLATFORM}",
        ("system:nodes", "system:authenticated"),
    )


def controller(name: str) -> Actor:
    """A kube-controller-manager controller with its own service account
    (``--use-service-account-credentials``), e.g. ``job-controller``."""
    account = f"system:serviceaccount:kube-system:{name}"
    return Actor(
        account,
        f"kube-controller-manager/{KUBE_VERSION} {_PLATFORM}/{account}",
        ("system:serviceaccounts", "system:serviceaccounts:kube-system"),
    )


SCHEDULER = Actor("system:kube-scheduler", f"kube-scheduler/{KUBE_VERSION} {_PLATFORM}")
ACTOR: ContextVar[Actor | None] = ContextVar("kube_standin_actor", default=None)


@contextlib.contextmanager
def acting_as(actor: Actor) -> Iterator[None]:
    """Attribute the store calls made inside the block (and in tasks started from it)
    to ``actor``."""
    token = ACTOR.set(actor)
    try:
        yield
    finally:
        ACTOR.reset(token)


def verb_of(method: str, *, has_name: bool, watch: bool = False) -> str:
    """The Kubernetes verb of an HTTP request."""
    if method == "GET":
        return "watch" if watch else ("get" if has_name else "list")
    if method == "DELETE":
        return "delete" if has_name else "deletecollection"
    return {"POST": "create", "PUT": "update", "PATCH": "patch"}.get(method, method)


def _stamp(t: float) -> str:
    return (
        time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{int(t % 1 * 1e6):06d}Z"
    )


def object_ref(
    rt: ResourceType, namespace: str | None, name: str | None, sub: str | None
) -> dict[str, str]:
    ref = {
        "resource": rt.plural,
        "namespace": namespace if rt.namespaced else None,
        "name": name,
        "apiGroup": rt.group or None,
        "apiVersion": rt.version,
        "subresource": sub,
    }
    return {k: v for k, v in ref.items() if v}


class AuditLog:
    """Appends audit events to ``path`` (line-buffered, safe across threads)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._fh: IO[str] | None = open(path, "a", buffering=1, encoding="utf-8")  # noqa: SIM115
        self._lock = threading.Lock()

    def record(
        self,
        *,
        actor: Actor,
        verb: str,
        uri: str,
        code: int,
        received: float,
        ref: dict[str, str] | None = None,
        source_ip: str = "127.0.0.1",
    ) -> None:
        event: dict[str, Any] = {
            "kind": "Event",
            "apiVersion": "audit.k8s.io/v1",
            "level": "Metadata",
            "auditID": str(uuid.uuid4()),
            "stage": "ResponseComplete",
            "requestURI": uri,
            "verb": verb,
            "user": {"username": actor.user, "groups": list(actor.groups)},
            "sourceIPs": [source_ip],
            "userAgent": actor.user_agent,
            "responseStatus": {"metadata": {}, "code": code},
            "requestReceivedTimestamp": _stamp(received),
            "stageTimestamp": _stamp(time.time()),
        }
        if ref:
            event["objectRef"] = ref
        line = json.dumps(event, separators=(",", ":")) + "\n"
        with self._lock:
            if self._fh is not None:
                self._fh.write(line)

    def close(self) -> None:
        with self._lock:
            if self._fh is not None:
                self._fh.close()
                self._fh = None


def read_events(path: Path) -> list[dict[str, Any]]:
    """Every event of an audit log file, in the order written (a torn last line, as
    left by a crash, is skipped)."""
    events = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            events.append(json.loads(line))
        except ValueError:
            continue
    return events


# (resource, name, namespace, subresource) of one store call
Ident = tuple[str | ResourceType, str | None, str | None, str | None]


class AuditedStore(Store):
    """A :class:`Store` whose writes by in-process components (an :class:`Actor` set
    with :func:`acting_as`, not an HTTP request) are recorded in ``audit``."""

    def __init__(self, audit: AuditLog, **kwargs: Any) -> None:
        self.audit = audit
        super().__init__(**kwargs)

    def _record(
        self,
        method: str,
        ident: Ident,
        code: int,
        received: float,
        created: str | None = None,
    ) -> None:
        actor = ACTOR.get()
        if actor is None or actor.via_http:
            return
        resource, name, namespace, sub = ident
        rt = lookup(resource)
        uri = rt.path(namespace, name) + (f"/{sub}" if sub else "")
        self.audit.record(
            actor=actor,
            verb=verb_of(method, has_name=name is not None),
            uri=uri,
            code=code,
            received=received,
            ref=object_ref(rt, namespace, name or created, sub),
        )

    def _audited(
        self, method: str, ident: Ident, call: Callable[[], dict[str, Any]]
    ) -> dict[str, Any]:
        received = time.time()
        try:
            result = call()
        except ApiError as exc:
            self._record(method, ident, exc.code, received)
            raise
        if method == "POST":  # the new object's name, as kube-apiserver records it
            created = result["metadata"]["name"]
            self._record(method, ident, 201, received, created)
        else:
            self._record(method, ident, 200, received)
        return result

    def create(
        self,
        resource: str | ResourceType,
        obj: dict[str, Any],
        namespace: str | None = None,
        *,
        dry_run: bool = False,
    ) -> dict[str, Any]:
        ns = namespace or (obj.get("metadata") or {}).get("namespace")
        return self._audited(
            "POST",
            (resource, None, ns, None),
            lambda: super(AuditedStore, self).create(
                resource, obj, namespace, dry_run=dry_run
            ),
        )

    def replace(
        self,
        resource: str | ResourceType,
        name: str,
        obj: dict[str, Any],
        namespace: str | None = None,
        subresource: str | None = None,
        *,
        dry_run: bool = False,
    ) -> dict[str, Any]:
        return self._audited(
            "PUT",
            (resource, name, namespace, subresource),
            lambda: super(AuditedStore, self).replace(
                resource, name, obj, namespace, subresource, dry_run=dry_run
            ),
        )

    def patch(
        self,
        resource: str | ResourceType,
        name: str,
        patch: Any,
        patch_type: str,
        namespace: str | None = None,
        subresource: str | None = None,
        *,
        dry_run: bool = False,
    ) -> dict[str, Any]:
        return self._audited(
            "PATCH",
            (resource, name, namespace, subresource),
            lambda: super(AuditedStore, self).patch(
                resource,
                name,
                patch,
                patch_type,
                namespace,
                subresource,
                dry_run=dry_run,
            ),
        )

    def delete(
        self,
        resource: str | ResourceType,
        name: str,
        namespace: str | None = None,
        grace_period: int | None = None,
        *,
        propagation_policy: str | None = None,
        preconditions: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        return self._audited(
            "DELETE",
            (resource, name, namespace, None),
            lambda: super(AuditedStore, self).delete(
                resource,
                name,
                namespace,
                grace_period,
                propagation_policy=propagation_policy,
                preconditions=preconditions,
            ),
        )
