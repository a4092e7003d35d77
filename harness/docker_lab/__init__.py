"""A Docker engine of the harness's own, for testing the kind provider's Docker layer and
building the cleaner's image on machines without a Docker daemon.

Debian's ``docker.io`` runs here only inside a network namespace the harness creates
(``nsenter --net=/run/netns/NAME dockerd ...``; ``ip netns exec`` hides the cgroup
mounts and dockerd refuses to start), with its own data-root, exec-root and socket
under a state directory, so the host's network namespace and any system Docker stay
untouched. There is no registry: images exist only by ``docker import`` of a Debian
root filesystem built here with ``debootstrap`` and cached outside the repository.

``engine``      start / stop one engine (:class:`LabEngine`), why it cannot start
``teardown``    remove an engine completely, also after a crash (``collect``)
``base_image``  the cached debootstrap root filesystem and its ``docker import``
"""
