"""Runbook validation (``cniscrub-lab validate RUNBOOK``): an operator's maintenance
procedure, run step by step on a sandbox cluster with Flannel, workload pods and a
realistic foreign baseline; every node is snapshotted before and after each step and the
report names the Flannel objects removed and left, the foreign objects destroyed and
the pods' sandbox outcomes.

``model``       Runbook and Step, one shape for both sources
``loader``      the YAML format (``runbook.schema.json``) and plain shell scripts
``shellscript`` a script cut into complete commands (bash decides what is complete)
``manifests``   manifest URLs mapped to pinned fixtures (no network in the sandbox)
``nodeshell``   one operator shell per node, carried across steps
"""
