"""What the emulated kubelet and image registry add for Jobs: terminal pod phases, and
the cleaner's own image (``cniscrub:<version>``, what deploy/Dockerfile builds).

Facts: kubelet ``getPhase`` (pkg/kubelet/kubelet_pods.go): with every container
terminated a pod is Succeeded/Failed under ``restartPolicy`` Never (Failed if any
container failed), Succeeded under OnFailure when all succeeded, else Running.
"""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from cniscrub import __version__
from cniscrub.deploy import manifest_text
from harness.emulation.images import resolve
from harness.emulation.images.cleaner import CleanerImage, image_path
from harness.emulation.kubelet.podstatus import PodStatus


def _status(policy: str, codes: list[int]) -> PodStatus:
    pod: dict[str, Any] = {
        "metadata": {},
        "spec": {
            "restartPolicy": policy,
            "containers": [{"name": f"c{i}", "image": "i"} for i in range(len(codes))],
        },
    }
    status = PodStatus(pod, "198.18.0.11")
    for i, rc in enumerate(codes):
        status.running(f"c{i}", [], 0)
        status.terminated(f"c{i}", rc, 0)
    return status


@pytest.mark.parametrize(
    ("policy", "codes", "phase"),
    [
        ("Never", [0], "Succeeded"),
        ("Never", [0, 2], "Failed"),
        ("OnFailure", [0, 0], "Succeeded"),
        ("OnFailure", [1], "Running"),
        ("Always", [0], "Running"),
    ],
)
def test_terminal_phase_follows_restart_policy(
    policy: str, codes: list[int], phase: str
) -> None:
    assert _status(policy, codes).render()["phase"] == phase


def test_running_and_not_started_phases() -> None:
    status = _status("Never", [])
    assert status.render()["phase"] == "Pending"
    pod = {"metadata": {}, "spec": {"containers": [{"name": "c", "image": "i"}]}}
    running = PodStatus(pod, "198.18.0.11")
    running.running("c", [], 0)
    assert running.render()["phase"] == "Running"


def test_the_shipped_jobs_image_is_in_the_sandbox_registry() -> None:
    job = yaml.safe_load(manifest_text("job.yaml"))
    image = job["spec"]["template"]["spec"]["containers"][0]["image"]
    assert image == f"cniscrub:{__version__}"
    assert isinstance(resolve(image), CleanerImage)
    assert isinstance(
        resolve(f"docker.io/library/cniscrub:{__version__}"), CleanerImage
    )
    assert resolve("cniscrub:0.0.0-not-built") is None
    assert resolve("example.com/cniscrub:" + __version__) is None


def test_image_path_starts_with_the_installed_scripts() -> None:
    first = image_path().split(":")[0]
    assert first.endswith("/bin")
    assert image_path().endswith("/usr/bin:/sbin:/bin")
