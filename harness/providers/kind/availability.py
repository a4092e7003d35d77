"""Why kind clusters cannot be created here, in the engine's own words.

Two things must hold: a Docker engine answers (else the docker SDK's error is the
reason), and it can run ``--privileged`` containers, as every kind node container is
(else runc's error, measured on this project's machines as ``unable to apply caps:
operation not permitted``: root there lacks CAP_SYS_RESOURCE). The privileged probe
needs no image from a registry: it imports a one-directory image, tries to start a
privileged container whose command does not exist, and reads which error comes back
(a missing command means the capabilities were applied). Both are removed again.
"""

from __future__ import annotations

import contextlib
import io
import os
import tarfile
from typing import Any

PROBE_REPOSITORY = "cniscrub-privileged-probe"
PROBE_LABEL = "io.cniscrub.probe"
_MISSING_COMMAND = ("no such file or directory", "executable file not found")


def docker_sdk_missing() -> str | None:
    try:
        import docker  # noqa: F401
    except ImportError:
        return "the docker SDK is not installed (pip install 'cniscrub[kind]')"
    return None


def engine_error(client_factory: Any) -> tuple[Any, str | None]:
    """(a connected client or None, the reason it is unusable or None)."""
    where = (
        os.environ.get("DOCKER_HOST")
        or "the default socket (unix:///var/run/docker.sock)"
    )
    try:
        client = client_factory()
        client.ping()
    except Exception as exc:
        return None, f"no Docker engine reachable at {where}: {exc}"
    return client, None


def privileged_refused(client: Any) -> str | None:
    """runc's error when this engine cannot start a privileged container, else None."""
    import docker.errors

    tag = f"{PROBE_REPOSITORY}:{os.getpid()}"
    repository, _, version = tag.partition(":")
    client.api.import_image_from_data(
        _one_dir_tar(),
        repository=repository,
        tag=version,
        changes=[f'LABEL "{PROBE_LABEL}"="privileged"'],
    )
    container = None
    try:
        container = client.containers.create(
            tag,
            ["/cniscrub-probe"],
            privileged=True,
            network_mode="none",
            labels={PROBE_LABEL: "privileged"},
        )
        container.start()
    except docker.errors.APIError as exc:
        message = str(exc.explanation or exc)
        if not any(m in message.lower() for m in _MISSING_COMMAND):
            return f"kind node containers must run --privileged and this engine refuses: {message}"
    finally:
        if container is not None:
            with contextlib.suppress(docker.errors.APIError):
                container.remove(force=True)
        with contextlib.suppress(docker.errors.APIError):
            client.images.remove(tag, force=True)
    return None


def _one_dir_tar() -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        info = tarfile.TarInfo("etc")
        info.type, info.mode = tarfile.DIRTYPE, 0o755
        tar.addfile(info)
    return buf.getvalue()
