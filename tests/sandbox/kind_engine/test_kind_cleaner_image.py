"""``deploy/Dockerfile`` builds on the lab engine from the locally imported Debian base
(``BASE`` build argument; no network: wheels downloaded on the host, ``PIP_OPTS=
--no-index``), and the image runs the cleaner: ``cniscrub --help``, the plan
DaemonSet's ``plan --json`` and the Job's exact command line, each in a container."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from cniscrub.deploy import manifest_text
from harness.docker_lab.engine import OWNER_LABEL, LabEngine
from harness.providers.kind import cleaner_image

pytestmark = [pytest.mark.sandbox, pytest.mark.slow]


def shipped_container(name: str) -> dict[str, Any]:
    (container,) = yaml.safe_load(manifest_text(name))["spec"]["template"]["spec"][
        "containers"
    ]
    return dict(container)


@pytest.fixture(scope="module")
def image(
    lab_engine: LabEngine, base_image: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    work = tmp_path_factory.mktemp("cleaner-image")
    tag = cleaner_image.build(
        lab_engine.client(),
        work,
        base=base_image,
        offline=True,
        labels={OWNER_LABEL: lab_engine.id},
    )
    yield tag
    lab_engine.client().images.remove(tag, force=True)


def run(engine: LabEngine, image: str, **kw: Any) -> tuple[int, bytes, bytes]:
    """Run a container to its end with no network and an empty /host; (rc, out, err)."""
    container = engine.client().containers.run(
        image,
        detach=True,
        network_mode="none",
        tmpfs={"/host": ""},
        cap_add=["NET_ADMIN"],
        labels={OWNER_LABEL: engine.id},
        **kw,
    )
    try:
        rc = container.wait(timeout=120)["StatusCode"]
        return (
            rc,
            container.logs(stdout=True, stderr=False),
            container.logs(stdout=False, stderr=True),
        )
    finally:
        container.remove(force=True)


def test_the_image_answers_help(lab_engine: LabEngine, image: str) -> None:
    rc, out, err = run(lab_engine, image, command=["--help"])
    assert rc == 0, err
    assert out.decode().startswith("usage: cniscrub")


def test_plan_json_runs_in_the_image(lab_engine: LabEngine, image: str) -> None:
    args = shipped_container("plan-daemonset.yaml")["args"]
    assert args[:1] == ["plan"] and "--json" in args
    rc, out, err = run(lab_engine, image, command=args)
    assert rc == 0, err  # an empty node: nothing to do
    report = json.loads(out)
    assert (report["cni"], report["actions"], report["exit_code"]) == ("flannel", [], 0)


def test_the_jobs_command_line_is_the_one_the_image_installed(
    lab_engine: LabEngine, image: str
) -> None:
    job = shipped_container("job.yaml")
    config = lab_engine.client().images.get(image).attrs["Config"]
    assert config["Entrypoint"] == job["command"]
    rc, out, err = run(
        lab_engine, image, entrypoint=job["command"], command=job["args"]
    )
    assert rc == 0, err
    assert json.loads(out)["exit_code"] == 0
    rc, out, _ = run(lab_engine, image, entrypoint=["sh", "-c", "command -v cniscrub"])
    assert out.decode().strip() == "/opt/cniscrub/bin/cniscrub"


def test_the_package_was_built_by_a_non_root_user(
    lab_engine: LabEngine, image: str
) -> None:
    rc, out, _ = run(
        lab_engine,
        image,
        entrypoint=["stat", "-c", "%u"],
        command=["/opt/cniscrub/bin/cniscrub", "/opt/cniscrub/bin/python3"],
    )
    assert rc == 0 and out.split() == [b"10001", b"10001"]
    rc, _, _ = run(
        lab_engine, image, entrypoint=["test", "-e", "/opt/cniscrub/bin/cniscrub-lab"]
    )
    assert rc == 1  # the lab is not part of the image


def test_an_unchanged_tree_reuses_the_built_image(
    lab_engine: LabEngine, base_image: str, image: str, tmp_path: Path
) -> None:
    again = cleaner_image.build(
        lab_engine.client(), tmp_path, base=base_image, offline=True
    )
    assert again == image
