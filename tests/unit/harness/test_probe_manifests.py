"""Probe pods reach kubectl as JSON objects: a hex run id that reads as a YAML 1.2
number (``695e12``, ``123456``) stays a string label. PyYAML (a YAML 1.1 writer) leaves such ids unquoted, and kubectl, reading YAML
1.2, turned one into a number and refused the pod (reboot[v0.26.7], once in ~20 runs)."""

from __future__ import annotations

import json

import pytest

from harness.actions.expect import PROBE_LABEL, Probe, probe_manifests


@pytest.mark.parametrize("run_id", ["695e12", "123456", "000001", "1e5a00", "abcdef"])
def test_every_run_id_stays_a_string_label(run_id: str) -> None:
    probes = [
        Probe(f"probe-{run_id}-{node}", node, run_id) for node in ("cp", "worker")
    ]
    lines = probe_manifests(probes).splitlines()
    assert len(lines) == 2
    for probe, line in zip(probes, lines, strict=True):
        pod = json.loads(line)  # each line one complete JSON object (kubectl's stream)
        assert pod["metadata"]["labels"] == {PROBE_LABEL: run_id}
        assert pod["metadata"]["name"] == probe.pod
        assert pod["spec"]["nodeName"] == probe.node
        # the text a YAML 1.2 reader sees quotes the id
        assert f'"{PROBE_LABEL}": "{run_id}"' in line
