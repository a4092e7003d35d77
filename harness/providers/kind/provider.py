"""The ``kind`` provider: real kind clusters through pytest-kind and the docker SDK.

Clusters come from pytest-kind's ``KindCluster`` with our own kind config
(:mod:`harness.providers.kind.config`), and pytest-kind's options keep their meaning:
``--kind-bin`` / ``--kind-kubectl-bin`` (else ``kind`` / kubectl from PATH, else
pytest-kind downloads them), ``--kind-image``, ``--keep-cluster``. State lives where
pytest-kind keeps it, ``.pytest-kind/<cluster>/`` in the working directory
(kubeconfig, the config the cluster was created with).

pytest-kind silently reuses a cluster of the same name whatever its config
(harness-anchors.md §1); this provider does not: an existing cluster is reused only
when it was created by this provider with exactly the same config and node image (a
``--keep-cluster`` run), otherwise ``create`` refuses and says how to remove it.
``delete`` removes only clusters this provider created, and is idempotent.
"""

from __future__ import annotations

import contextlib
import json
import logging
import shutil
import time
from pathlib import Path
from typing import Any

from harness.kube import find_kubectl
from harness.providers.base import ClusterSpec, ProviderError
from harness.providers.kind import availability, cni
from harness.providers.kind.cluster import KindTestCluster
from harness.providers.kind.commands import Runner, run
from harness.providers.kind.config import kind_config, node_names, render
from harness.providers.kind.node import CLUSTER_LABEL

log = logging.getLogger(__name__)
OWNER = "cniscrub-kind"
RECORD = "cniscrub-cluster.json"


class KindProvider:
    """Implements ``harness.providers.base.Provider`` with kind."""

    name = "kind"

    def __init__(
        self,
        *,
        kind_bin: str | None = None,
        kubectl_bin: str | None = None,
        kind_image: str | None = None,
        cleaner_image: str | None = None,
        cleaner_base: str | None = None,
        cni_plugins: Path | None = None,
        workdir: Path | None = None,
        docker_client: Any = None,
        runner: Runner = run,
        lifetime_owner: int | None = None,  # sandbox-only; kind clusters have none
    ) -> None:
        self.kind_bin = kind_bin or shutil.which("kind")
        self.kubectl_bin = kubectl_bin or find_kubectl()
        self.kind_image = kind_image
        self.cleaner_image = cleaner_image
        self.cleaner_base = cleaner_base
        self.cni_plugins = cni_plugins
        self.workdir = (workdir or Path.cwd()).resolve()
        self.home = self.workdir / ".pytest-kind"
        self.runner = runner
        self._docker = docker_client

    def docker(self) -> Any:
        if self._docker is None:
            import docker

            self._docker = docker.from_env()
        return self._docker

    def unavailable(self) -> str | None:
        """The docker SDK missing, no engine answering (the SDK's error), or an engine
        that cannot run privileged containers (runc's error); None when kind can run."""
        reason = availability.docker_sdk_missing()
        if reason:
            return reason
        client, reason = availability.engine_error(self.docker)
        if reason:
            return reason
        return availability.privileged_refused(client)

    # -- pytest-kind --------------------------------------------------------------

    def _kind_cluster(self, name: str) -> Any:
        """pytest-kind's KindCluster for ``name`` with absolute paths (it makes
        ``.pytest-kind/<name>`` relative to the working directory: ours is ``workdir``)."""
        from pytest_kind import KindCluster
        from pytest_kind.cluster import KIND_VERSION, KUBECTL_VERSION

        (self.home / "bin").mkdir(parents=True, exist_ok=True)
        with contextlib.chdir(self.workdir):
            return KindCluster(
                name,
                kubeconfig=self.home / name / "kubeconfig",
                image=self.kind_image,
                kind_path=Path(
                    self.kind_bin or self.home / "bin" / f"kind-{KIND_VERSION}"
                ),
                kubectl_path=Path(
                    self.kubectl_bin or self.home / "bin" / f"kubectl-{KUBECTL_VERSION}"
                ),
            )

    def _existing(self, kind: Any) -> list[str]:
        kind.ensure_kind()
        result = self.runner(
            [str(kind.kind_path), "get", "clusters"], timeout=60
        ).check()
        return [line.strip() for line in result.stdout.splitlines() if line.strip()]

    # -- Provider -----------------------------------------------------------------

    def create(self, spec: ClusterSpec) -> KindTestCluster:
        config = kind_config(
            spec.nodes, node_monitor_grace_period=spec.node_monitor_grace_period
        )
        text = render(config)
        wanted = {"owner": OWNER, "config": text, "image": self.kind_image}
        kind = self._kind_cluster(spec.name)
        state = self.home / spec.name
        if spec.name in self._existing(kind):
            self._check_reusable(
                spec.name, state, wanted, node_names(spec.name, config)
            )
            log.warning("reusing kept kind cluster %s (same config)", spec.name)
            kind.ensure_kubectl()
            return KindTestCluster(self, kind, state)
        (state / "kind-config.yaml").write_text(text)
        (state / RECORD).write_text(json.dumps({**wanted, "created": time.time()}))
        try:
            kind.create(config_file=state / "kind-config.yaml")
            kind.ensure_kubectl()
            cluster = KindTestCluster(self, kind, state)
            if spec.cni_bin_set != "kind":
                cni.copy_reference_plugins(cluster, self.cni_plugins)
        except BaseException:
            self.delete(spec.name)
            raise
        return cluster

    def _check_reusable(
        self, name: str, state: Path, wanted: dict[str, Any], nodes: list[str]
    ) -> None:
        try:
            recorded = json.loads((state / RECORD).read_text())
        except (OSError, ValueError):
            recorded = {}
        have = sorted(
            c.name
            for c in self.docker().containers.list(
                all=True, filters={"label": f"{CLUSTER_LABEL}={name}"}
            )
        )
        same = all(recorded.get(k) == v for k, v in wanted.items())
        if not same or have != sorted(nodes):
            origin = (
                "another config"
                if recorded
                else "no record of being created by cniscrub"
            )
            raise ProviderError(
                f"kind cluster {name!r} already exists with {origin} (nodes: "
                f"{', '.join(have) or 'none'}; wanted: {', '.join(nodes)}); not reusing it. "
                f"Delete it with `kind delete cluster --name {name}` or pick another name"
            )

    def get(self, name: str) -> KindTestCluster:
        kind = self._kind_cluster(name)
        state = self.home / name
        if name not in self._existing(kind) or not (state / RECORD).exists():
            with contextlib.suppress(OSError):
                state.rmdir()  # pytest-kind made it; leave nothing for a miss
            raise ProviderError(f"no kind cluster {name!r} created by cniscrub")
        if not Path(kind.kubeconfig_path).stat().st_size:
            kubeconfig = self.runner(
                [str(kind.kind_path), "get", "kubeconfig", f"--name={name}"]
            ).check()
            Path(kind.kubeconfig_path).write_text(kubeconfig.stdout)
        kind.ensure_kubectl()
        return KindTestCluster(self, kind, state)

    def list_clusters(self) -> list[str]:
        if not self.home.is_dir():
            return []
        ours = sorted(p.parent.name for p in self.home.glob(f"*/{RECORD}"))
        if not ours:
            return []
        existing = set(self._existing(self._kind_cluster(ours[0])))
        return [name for name in ours if name in existing]

    def delete(self, name: str) -> bool:
        """Delete the cluster this provider created; True if one was there."""
        state = self.home / name
        kind = self._kind_cluster(name)
        exists = name in self._existing(kind)
        if exists and not (state / RECORD).exists():
            raise ProviderError(
                f"kind cluster {name!r} was not created by cniscrub; not deleting it "
                f"(`kind delete cluster --name {name}` does)"
            )
        if exists:
            kind.delete()
        shutil.rmtree(state, ignore_errors=True)
        return exists
