"""cniscrub: remove exactly one Kubernetes CNI's residue from a node, with a plan, a backup
and a verification.

Layers (each imports only the ones below it)::

    node/        how commands run and files are read on the node (argv lists, --root)
    inventory/   read-only collection + pure parsers, one module per kind of state
    footprints/  what a CNI owns, per version, recognised positively
    plan/        pure: Inventory + Footprint + Policy -> Plan (actions with evidence)
    apply/       lock, journal + backup, batched execution, restore
    cli/         the ``cniscrub`` command
"""

__version__ = "0.1.0"
