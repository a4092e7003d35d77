"""Actions on a cluster, one implementation each, shared by scenario files and runbook
validation, in two layers:

* **functions** (the provider protocols only): each takes the cluster and returns an
  :class:`~harness.actions.base.ActionResult` holding one :class:`~.base.Run` per
  command it ran (where, exit code, output, duration); runbook validation calls them;
* **steps** (:data:`ACTIONS`): what a scenario file's step names, ``run(ctx, args)`` on
  the run's :class:`~harness.actions.context.Context`, built on those functions; a step
  fails by raising (``require`` turns a failed result into the step's error).

=====================  ==========  ==================================================
step                   module      function(s) it uses / does
=====================  ==========  ==================================================
``kubectl``            kubectl     ``kubectl`` (argv once; ``kubectl_script`` on the
                                   control-plane node for shell constructs)
``kubectl_interrupted``kubectl     ``kubectl VERB -f`` killed after its N-th object
``pods``/``delete_pods`` kubectl   workload pods pinned to nodes
``shell``              nodes       ``shell`` (bash as root in nodes, in parallel)
``reboot``             nodes       ``reboot`` (+ the node's boot services)
``stop``/``start``     nodes       ``stop``/``start`` (power off / on)
``kill``               nodes       a signal to a process by name
``cniscrub``           cleaner     ``cniscrub`` (``run_cleaner``; ``kill_at`` N)
``cniscrub_cluster``   cleaner     ``cniscrub_cluster`` (via the API)
``interrupted_cleaner``cleaner     SIGKILL at every action index, re-runs converge
``install``            install     ``install`` (any manifest) / the CNI's own module
``uninstall``          install     ``uninstall`` (``kubectl delete -f``, agent gone)
``wait``               waits       ``nodes_state``, ``pods_gone`` (also ``pods_ready``,
                                   ``nodes_ready``, ``seconds``)
``snapshot``           cluster     the cluster's state under a label
``expect``             expect_*    checks (:mod:`.expect_cluster`, :mod:`.expect_node`;
                                   probe pods and ``no_residue`` from :mod:`.expect`)
=====================  ==========  ==================================================

>>> ACTIONS["reboot"].family, ACTIONS["expect"].short
('nodes', 'checks that must hold now')
>>> run_action(None, "nope", None)   # type: ignore[arg-type]
Traceback (most recent call last):
...
KeyError: "unknown action 'nope' (known: cniscrub, cniscrub_cluster, delete_pods, ..."
"""

from __future__ import annotations

from typing import Any

from harness.actions import (
    cleaner,
    cluster,
    expect_cluster,
    install,
    kubectl,
    nodes,
    waits,
)
from harness.actions.context import Action, Context, ExpectationFailed

__all__ = ["ACTIONS", "Action", "Context", "ExpectationFailed", "run_action"]

ACTIONS: dict[str, Action] = {
    a.name: a
    for a in (
        cluster.SNAPSHOT,
        waits.WAIT,
        kubectl.KUBECTL,
        kubectl.KUBECTL_INTERRUPTED,
        kubectl.PODS,
        kubectl.DELETE_PODS,
        nodes.REBOOT,
        nodes.STOP,
        nodes.START,
        nodes.KILL,
        nodes.SHELL,
        cleaner.CNISCRUB,
        cleaner.CNISCRUB_CLUSTER,
        cleaner.INTERRUPTED_CLEANER,
        install.INSTALL,
        install.UNINSTALL,
        expect_cluster.EXPECT,
    )
}


def run_action(ctx: Context, name: str, args: Any) -> None:
    """Run one step by name (what a scenario file's step does)."""
    if name not in ACTIONS:
        known = ", ".join(sorted(ACTIONS))
        raise KeyError(f"unknown action {name!r} (known: {known})")
    ACTIONS[name].run(ctx, args)
