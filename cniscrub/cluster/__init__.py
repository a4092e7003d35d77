"""``cniscrub cluster``: remove one CNI from a whole cluster through the Kubernetes API,
with the node cleaner run as one Job per node. It needs the ``cluster`` extra (the
official ``kubernetes`` client and ``rich``); the node cleaner never imports it.

Layers, each passing data to the next (:mod:`.model`):

- :mod:`.client` connects (kubeconfig, context, in-cluster) and :mod:`.api` makes the
  requests, on plain JSON;
- :mod:`.discover` reads what the CNI left (by its footprint's API data:
  ``cniscrub.footprints.spec.ClusterFootprint``), :mod:`.planner` turns it into
  ordered steps with evidence and their exact requests (:mod:`.kinds` knows the
  dependency order), :mod:`.jobs` makes each node's Job from ``deploy/job.yaml``;
- :mod:`.execute` carries a plan out, :mod:`.runner` runs the node Jobs (at most N at
  a time, pods followed by :mod:`.podwatch`, progress from :mod:`.progress`) and
  :mod:`.reports` reads each node's report
  from its pod log;
- :mod:`.commands` and :mod:`.cli` are the ``plan``, ``apply`` and ``verify``
  commands; :mod:`.render` prints tables or the JSON document.

Nothing here names a CNI: a footprint's ``cluster`` data is all it reads.
"""
