"""Release figures on a demo database: time to build a draft, the workbook and the press pack, and how much
the disclosure rules hide. Usage: python -m tests.bench.releases [--db data/kpi.duckdb] [--as-of 2026-11-15]

Works on a copy, so the database itself is not changed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import tempfile
import time
from pathlib import Path

from metrics.auth.access import Principal
from metrics.kpi.snapshots import snapshot_dates
from metrics.releases.export import press_pack, release_xlsx
from metrics.releases.service import create_release, get_release
from metrics.storage.store import Store


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", default="data/kpi.duckdb")
    ap.add_argument("--as-of", default=None)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "copy.duckdb"
        shutil.copy(args.db, copy)
        with Store.open(copy) as store:
            day = dt.date.fromisoformat(args.as_of) if args.as_of else snapshot_dates(store)[-1]
            office = Principal("office", "office")
            t0 = time.perf_counter()
            rid, warnings = create_release(store, office, day)
            t_create = time.perf_counter() - t0
            rel = get_release(store, office, rid)
        t0 = time.perf_counter()
        xlsx = release_xlsx(rel)
        t_xlsx = time.perf_counter() - t0
        t0 = time.perf_counter()
        pack = press_pack(rel)
        t_pack = time.perf_counter() - t0
    tables = rel.content["tables"]
    cells = [c for t in tables for row in t["rows"] for c in row[1:]]
    hidden = sum(c in ("*", f"<{rel.threshold}") for c in cells)
    heads = sum(len(p["headlines"]) for p in rel.content["programmes"])
    print(f"snapshot {day}: {heads} headline figures, {len(tables)} tables, {len(warnings)} review notes")
    print(f"draft built in {t_create * 1000:.0f} ms; workbook {t_xlsx * 1000:.0f} ms ({len(xlsx):,} bytes)")
    print(f"press pack {t_pack:.1f} s ({len(pack):,} bytes)")
    print(f"cells hidden: {hidden} of {len(cells)}; tables withheld: {sum(t['withheld'] for t in tables)}")


if __name__ == "__main__":
    main()
