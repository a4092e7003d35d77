"""cniscrub: remove exactly one Kubernetes CNI's residue from a node, with a plan, a backup
and a verification.

Layers (each imports only the ones below it)::

    node/        how commands run (Runner) and files are read under --root
    inventory/   read-only, CNI-neutral collection + pure parsers, one module per kind
    footprints/  one FootprintSpec per CNI: what it owns, recognised positively
    plan/        pure: Inventory + Footprint + Policy -> Plan (actions with evidence)
    journal/     the journal: durable, checked writes; a digest chain checked on read
    apply/       lock, backup, batched execution, targeted verify, checked restore
    cli/         the ``cniscrub`` command: one run context, commands as phases
"""

__version__ = "0.1.0"
