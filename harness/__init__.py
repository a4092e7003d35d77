"""cniscrub's test harness: builds clusters with a CNI, disrupts them, runs the shipped
cleaner inside their nodes and asserts node state.

    providers/   one cluster interface, two providers: ``sandbox`` (namespaces on this
                 machine) and ``kind`` (kind node containers)
    emulation/   sandbox stand-ins for what cannot run here (API server, kubelet and
                 runtime, flanneld, the flannel CNI plugin)
    cli/         the ``cniscrub-lab`` command
    plugin.py    the pytest plugin (options, ``cluster`` fixture, markers)
"""
