"""Errors of the Kubernetes API stand-in (a test stand-in, never a product component),
each carrying the ``metav1.Status`` body the real server returns, with its exact reason
and message shape (``pods "p1" not found``, ``daemonsets.apps "ds" already exists``).

The ``Store`` raises :class:`ApiError`; the HTTP layer serialises
:meth:`ApiError.status`.

>>> not_found(lookup("pods"), "p1").status()["reason"]
'NotFound'
"""

from __future__ import annotations

from typing import Any

from .resources import ResourceType, lookup

__all__ = [
    "ApiError",
    "already_exists",
    "bad_request",
    "conflict",
    "expired",
    "forbidden",
    "invalid",
    "method_not_allowed",
    "not_found",
    "status_success",
    "unsupported_media_type",
]

_ = lookup  # re-exported for the doctest above


class ApiError(Exception):
    """An API failure: HTTP code, Status reason, message and optional details."""

    def __init__(
        self,
        code: int,
        reason: str,
        message: str,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details

    def status(self) -> dict[str, Any]:
        """The ``Status`` object the real API server would send."""
        body: dict[str, Any] = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        }
        if self.details is not None:
            body["details"] = self.details
        return body


def _details(rt: ResourceType, name: str) -> dict[str, Any]:
    details: dict[str, Any] = {"name": name, "kind": rt.plural}
    if rt.group:
        details["group"] = rt.group
    return details


def not_found(rt: ResourceType, name: str) -> ApiError:
    return ApiError(404, "NotFound", f'{rt} "{name}" not found', _details(rt, name))


def already_exists(rt: ResourceType, name: str) -> ApiError:
    return ApiError(
        409, "AlreadyExists", f'{rt} "{name}" already exists', _details(rt, name)
    )


def conflict(rt: ResourceType, name: str, why: str | None = None) -> ApiError:
    why = why or (
        "the object has been modified; please apply your changes to the latest "
        "version and try again"
    )
    return ApiError(
        409,
        "Conflict",
        f'Operation cannot be fulfilled on {rt} "{name}": {why}',
        _details(rt, name),
    )


def invalid(rt: ResourceType, name: str, why: str) -> ApiError:
    return ApiError(
        422, "Invalid", f'{rt.kind} "{name}" is invalid: {why}', _details(rt, name)
    )


def bad_request(message: str) -> ApiError:
    return ApiError(400, "BadRequest", message)


def forbidden(message: str) -> ApiError:
    return ApiError(403, "Forbidden", message)


def method_not_allowed(
    message: str = "the server does not allow this method on the requested resource",
) -> ApiError:
    return ApiError(405, "MethodNotAllowed", message)


def unsupported_media_type(content_type: str) -> ApiError:
    return ApiError(
        415,
        "UnsupportedMediaType",
        f"the body of the request was in an unknown format ({content_type}) - "
        "accepted media types include: application/json, application/yaml",
    )


def expired(resource_version: str) -> ApiError:
    return ApiError(410, "Expired", f"too old resource version: {resource_version}")


def status_success(
    rt: ResourceType, name: str, uid: str | None = None
) -> dict[str, Any]:
    """The ``Status`` a DELETE answers when it does not return the object."""
    details = _details(rt, name)
    if uid:
        details["uid"] = uid
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Success",
        "details": details,
    }
