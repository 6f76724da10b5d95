"""`python -m metrics.catalogue [FILE…]`: load and check catalogue files, print a summary."""

from __future__ import annotations

import sys
from pathlib import Path

from metrics.catalogue import CATALOGUE_DIR, CatalogueError, load_catalogue


def _main(argv: list[str]) -> int:
    paths = [Path(a) for a in argv] or sorted(CATALOGUE_DIR.glob("*.yaml"))
    status = 0
    for p in paths:
        try:
            cat = load_catalogue(p)
        except CatalogueError as exc:
            print(exc)
            status = 1
        else:
            print(f"{p.name}: ok — {len(cat.tasks)} tasks, {len(cat.kpis)} KPIs, {len(cat.subsidies)} subsidies")
    return status


sys.exit(_main(sys.argv[1:]))
