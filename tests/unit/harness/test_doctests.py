"""The ``>>>`` examples in module docstrings are true (those not marked +SKIP)."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "cniscrub.node.command",
    "harness.emulation.images",
    "harness.emulation.kubelet.podspec",
    "harness.emulation.kubelet.podstatus",
    "harness.emulation.controlplane.nodes",
    "harness.flannel_install",
    "harness.providers",
    "harness.providers.sandbox.provider",
    "harness.providers.kind.config",
    "harness.providers.kind.commands",
    "harness.providers.kind.cleaner_job",
    "harness.providers.shipped_cleaner",
    "cniscrub.deploy",
    "harness.matrix",
    "harness.matrix_params",
    "harness.cli.nodes",
    "harness.emulation.controlplane.nodelifecycle",
    "harness.emulation.controlplane.jobs",
    "harness.emulation.apiserver.audit",
    "harness.emulation.apiserver.jobspec",
    "harness.emulation.apiserver.podlogs",
    "harness.emulation.images.cleaner",
    "harness.providers.sandbox.underlay",
    "harness.wait",
    "harness.kube_router_install",
    *(
        f"harness.emulation.kube_router.{name}"
        for name in (
            "cleanup",
            "cniconf",
            "image",
            "model",
            "netpol",
            "options",
            "rules",
            "versions",
        )
    ),
    "harness.yaml_lines",
    "harness.baseline",
    *(
        f"harness.snapshot.{name}"
        for name in ("cluster", "diff", "files", "netfilter", "netlink", "node", "pods")
    ),
    "harness.emulation.http_listener",
    "harness.snapshot.state",
    "harness.actions",
    *(
        f"harness.actions.{name}"
        for name in (
            "base",
            "context",
            "cleaner",
            "install",
            "expect_node",
            "kubectl",
            "nodes",
            "residue",
            "wording",
        )
    ),
    *(f"harness.scenario.{name}" for name in ("collect", "loader", "model", "timing")),
    *(
        f"harness.runbook.{name}"
        for name in (
            "classify",
            "manifests",
            "model",
            "nodeshell",
            "shellscript",
            "verdict",
        )
    ),
    *(
        f"harness.emulation.flannel.{name}"
        for name in (
            "checks",
            "cni_errors",
            "image",
            "klog",
            "model",
            "netconf",
            "options",
            "rules",
            "subnet_env",
            "trafficmgr_iptables",
            "trafficmgr_nft",
            "versions",
        )
    ),
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    result = doctest.testmod(
        importlib.import_module(name), optionflags=doctest.ELLIPSIS
    )
    assert result.attempted > 0, f"{name} has no runnable example"
    assert result.failed == 0
