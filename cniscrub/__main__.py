"""``python -m cniscrub`` runs the CLI."""

from __future__ import annotations

from cniscrub.cli.main import main

raise SystemExit(main())
