"""Cluster providers behind one small interface (see :mod:`harness.providers.base`)."""
