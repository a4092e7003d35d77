"""The cleaner's layering holds (issue 9 acceptance): the core knows no CNI, the CLI
reads its options from one run context, and only ``cniscrub/footprints`` names a
footprint's modules."""

from __future__ import annotations

import ast
from pathlib import Path

PKG = Path(__file__).parents[3] / "cniscrub"


def _sources(sub: str) -> dict[str, str]:
    return {str(p.relative_to(PKG)): p.read_text() for p in (PKG / sub).rglob("*.py")}


def test_apply_knows_no_cni() -> None:
    offenders = [
        n for n, text in _sources("apply").items() if "flannel" in text.lower()
    ]
    assert offenders == []


def test_cli_reads_no_ad_hoc_namespace_attributes() -> None:
    assert [n for n, text in _sources("cli").items() if "getattr(args" in text] == []


def test_only_footprints_import_a_footprints_modules() -> None:
    bad = []
    for name, text in _sources(".").items():
        if name.startswith("footprints/"):
            continue
        for node in ast.walk(ast.parse(text)):
            mods = []
            if isinstance(node, ast.ImportFrom) and node.module:
                mods = [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
            elif isinstance(node, ast.Import):
                mods = [a.name for a in node.names]
            bad += [
                (name, m) for m in mods if m.startswith("cniscrub.footprints.flannel")
            ]
    assert bad == []
