"""Errors of ``cniscrub cluster``: each ends the run with a message an operator can act
on (the CLI maps them to exit codes like every cniscrub error).

>>> issubclass(MissingExtra, ClusterError)
True
"""

from __future__ import annotations

from cniscrub.errors import CleanerError, UsageError

EXTRA_HINT = "pip install 'cniscrub[cluster]'"


class ClusterError(CleanerError):
    """The cluster could not be read or changed as needed."""


class MissingExtra(ClusterError):
    """The optional ``cluster`` extra (the official Kubernetes client, rich) is not
    installed; the node cleaner works without it."""


class ConfigError(UsageError):
    """The kubeconfig or context cannot be used."""


class ApiFailure(ClusterError):
    """The API server refused a request (its Status message), or cannot be reached."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class NotFound(ApiFailure):
    """404: the object is not there."""


class Conflict(ApiFailure):
    """409: the object exists already, or changed meanwhile."""
