"""The ``kind`` provider: the same scenarios on real kind clusters (Docker required).

``provider``        :class:`KindProvider`: create/get/list/delete through pytest-kind
``cluster``         :class:`KindTestCluster`: nodes, kubectl, the cleaner as a Job
``node``            :class:`KindNode`: exec, files, reboot/stop/start, testinfra host
``docker_ops``      the docker-SDK layer under a node (exec, copy, power)
``config``          the kind config (no default CNI, 10.244.0.0/16, N nodes)
``cni``             reference CNI plugins per node, manifests, bounded waits
``cleaner_image``   ``deploy/Dockerfile`` built through the SDK (also offline)
``cleaner_job``     ``deploy/job.yaml`` filled in, run, its report read from the log
``availability``    why kind cannot run here (engine unreachable, no privileged)

Select it with ``pytest --provider kind`` (``tox -e scenarios -- --provider kind``).
Where Docker cannot run kind's privileged node containers, kind tests skip with the
engine's own error. Imports are lazy: choosing ``sandbox`` never imports docker.
"""
