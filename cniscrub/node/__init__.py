"""Node access: running argv lists and reading files, locally or under ``--root``."""
