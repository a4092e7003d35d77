"""The ``cniscrub-lab`` command: build sandbox clusters, reproduce the Flannel sandbox
error, explore, clean up."""
