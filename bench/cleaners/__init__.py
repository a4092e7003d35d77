"""Side-by-side benchmark of node cleaners on generated Flannel residue.

``spec``/``rules`` compute a deterministic node state and its ground-truth
manifest (pure), ``nodestate`` builds it in a fresh network namespace,
``competitors``/``worker`` run the cleaners inside it and ``census`` counts
what each cleaner left behind or destroyed.
"""
