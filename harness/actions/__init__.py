"""Actions on a cluster, one implementation each, shared by scenarios and runbook
validation: every action takes the cluster (the provider protocols only) and returns
an :class:`~harness.actions.base.ActionResult` holding one :class:`~.base.Run` per
command it ran (where, exit code, output, duration).

========================  =========================================================
module                    actions
========================  =========================================================
``kubectl``               ``kubectl`` (argv, once), ``kubectl_script`` (bash around
                          kubectl, once, on the control-plane node)
``nodes``                 ``shell`` (bash as root in selected nodes, in parallel),
                          ``reboot`` (all at once or rolling), ``run_on``
``cleaner``               ``cniscrub`` (the shipped cleaner via ``run_cleaner``),
                          ``cniscrub_cluster`` (``cniscrub cluster …`` via the API)
``install``               ``install`` (any CNI manifest; waits for its workloads)
``waits``                 ``pods_gone``, ``pods_ready``, ``nodes_ready``, ``seconds``
``expect``                ``pods_running``, ``cross_node_traffic`` (probe pods, real
                          traffic), ``no_residue`` (``cniscrub verify``)
========================  =========================================================
"""

from __future__ import annotations

from harness.actions import cleaner, expect, install, kubectl, nodes, waits

ACTIONS = {
    "kubectl": kubectl.kubectl,
    "kubectl_script": kubectl.kubectl_script,
    "shell": nodes.shell,
    "reboot": nodes.reboot,
    "cniscrub": cleaner.cniscrub,
    "cniscrub_cluster": cleaner.cniscrub_cluster,
    "install": install.install,
    "wait_pods_gone": waits.pods_gone,
    "wait_pods_ready": waits.pods_ready,
    "wait_nodes_ready": waits.nodes_ready,
    "wait_seconds": waits.seconds,
    "expect_pods_running": expect.pods_running,
    "expect_cross_node_traffic": expect.cross_node_traffic,
    "expect_no_residue": expect.no_residue,
}
