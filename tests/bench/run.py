"""`make bench`: engine speed against plain pandas on the scale-100 demo data, plus load and import times.

Prints each figure and the ratio. Targets (issue 2): all KPIs over 10M placements + 2M trainings in
≤ 1 s on 2 cores and ≥ 10× faster than pandas; bulk load ≤ 10 s; a 100,000-row XLSX import ≤ 15 s, and
parsing it in the limited worker process costs under 10 % more than in-process (issue 9, docs/uploads.md).
Usage: python -m tests.bench.run [--scale 100] [--runs 5] [--keep] [--import-only]
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

AS_OF = dt.date(2026, 11, 21)
BENCH_DIR = Path("data/bench")


def timed(fn: Callable[[], Any], runs: int) -> tuple[float, Any]:
    """Median wall time of `runs` calls after one warm-up call."""
    result = fn()
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result


def build(db: Path, scale: float) -> dict[str, float]:
    from metrics.demo.generate import generate
    from metrics.storage.store import Store

    t0 = time.perf_counter()
    tables = generate(seed=42, scale=scale, as_of=AS_OF)
    gen = time.perf_counter() - t0
    db.parent.mkdir(parents=True, exist_ok=True)
    if db.exists():
        db.unlink()
    t0 = time.perf_counter()
    with Store.open(db) as store:
        for name, table in tables.items():
            store.bulk_insert(name, table)
    load = time.perf_counter() - t0
    from metrics.kpi.snapshots import backfill_snapshots

    with Store.open(db) as store:  # a year of weekly snapshots, as the demo database has
        backfill_snapshots(store, AS_OF, weeks=52)
    return {
        "generate_s": gen,
        "load_s": load,
        "placements": tables["placements"].num_rows,
        "trainings": tables["trainings"].num_rows,
    }


def write_placements_xlsx(path: Path, rows: int, seed: int = 7) -> Path:
    """A placements XLSX of `rows` demo rows as a department writes it: a title row, Chinese headers, 序号."""
    import xlsxwriter

    from metrics.contract.records import RECORD_TYPES
    from metrics.demo.generate import generate

    table = generate(seed=seed, scale=rows / 100_000 * 1.05, as_of=AS_OF)["placements"].slice(0, rows)
    rt = RECORD_TYPES["placements"]
    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    ws = wb.add_worksheet("placements")
    ws.write_row(0, 0, ["2026年就业安置台账"])
    ws.write_row(1, 0, ["序号", *(c.header_zh for c in rt.columns)])
    date_fmt = wb.add_format({"num_format": "yyyy-mm-dd"})
    cols = [table.column(c.name).to_pylist() for c in rt.columns]
    for i in range(table.num_rows):
        ws.write_number(i + 2, 0, i + 1)
        for j, c in enumerate(rt.columns):
            v = cols[j][i]
            if v is None:
                continue
            if isinstance(v, dt.date):
                ws.write_datetime(i + 2, j + 1, dt.datetime(v.year, v.month, v.day), date_fmt)
            elif isinstance(v, bool):
                ws.write_string(i + 2, j + 1, "是" if v else "否")
            elif isinstance(v, int | float):
                ws.write_number(i + 2, j + 1, float(v))
            else:
                ws.write_string(i + 2, j + 1, str(v))
    wb.close()
    return path


def xlsx_import(rows: int, runs: int = 3) -> dict[str, float]:
    """Median seconds to import a placements XLSX of `rows` rows into an empty database, parsed in this
    process and parsed in the limited worker (import_file, docs/uploads.md), alternating; plus the one-off
    start of the worker's fork server."""
    from metrics.ingest import import_parsed, parse_file
    from metrics.ingest.load import import_file
    from metrics.ingest.worker import parse_isolated
    from metrics.storage import clock
    from metrics.storage.store import Store

    times: dict[bool, list[float]] = {False: [], True: []}
    with tempfile.TemporaryDirectory() as tmp, clock.pinned(AS_OF):
        path = write_placements_xlsx(Path(tmp) / "placements_bench.xlsx", rows)
        t0 = time.perf_counter()
        parse_isolated(b"-", "placements.csv")  # starts the fork server, as the first upload does
        server_start = time.perf_counter() - t0

        def once(isolated: bool, i: int) -> float:
            with Store.open(Path(tmp) / f"import-{int(isolated)}-{i}.duckdb") as store:
                t0 = time.perf_counter()
                if isolated:
                    report = import_file(store, path, user="bench")
                else:
                    report = import_parsed(store, parse_file(path), user="bench")
                elapsed = time.perf_counter() - t0
            if not report.ok:
                raise SystemExit(f"bench XLSX rejected: {report.errors[:3]}")
            assert report.new == rows, report
            return elapsed

        for i in range(runs):
            for isolated in (False, True):
                times[isolated].append(once(isolated, i))
    return {
        "in_process": statistics.median(times[False]),
        "worker": statistics.median(times[True]),
        "in_process_best": min(times[False]),
        "worker_best": min(times[True]),
        "server_start": server_start,
    }


def _import_figures(rows: int, runs: int, figures: list[tuple[str, str]]) -> None:
    t = xlsx_import(rows, runs)
    figures.append(
        (
            f"import of a {rows:,}-row XLSX, validated, parsed in-process, median of {runs} (target ≤ 15 s)",
            f"{t['in_process']:.2f} s (best {t['in_process_best']:.2f} s)",
        )
    )
    figures.append(
        (
            f"the same, parsed in the limited worker process, median of {runs}",
            f"{t['worker']:.2f} s (best {t['worker_best']:.2f} s)",
        )
    )
    figures.append(
        (
            "isolation cost: worker ÷ in-process, medians (best ÷ best) (target < 1.10)",
            f"{t['worker'] / t['in_process']:.3f} ({t['worker_best'] / t['in_process_best']:.3f})",
        )
    )
    figures.append(("worker fork server start, once per process", f"{t['server_start']:.2f} s"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--scale", type=float, default=100.0)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--xlsx-rows", type=int, default=100_000)
    ap.add_argument("--rebuild", action="store_true", help="Rebuild the benchmark database even if present.")
    ap.add_argument("--pages-only", action="store_true", help="Only the page timings (database must exist).")
    ap.add_argument("--import-only", action="store_true", help="Only the XLSX import timings (no database).")
    args = ap.parse_args()
    if args.import_only:
        figures_only: list[tuple[str, str]] = []
        _import_figures(args.xlsx_rows, args.runs, figures_only)
        _print(figures_only)
        return

    from metrics.catalogue import load_catalogues
    from metrics.kpi.engine import Engine
    from metrics.storage.store import Store
    from tests.bench.pandas_reference import compute_all, load_frames

    db = BENCH_DIR / f"kpi-scale{args.scale:g}.duckdb"
    figures: list[tuple[str, str]] = []
    if args.rebuild or not db.exists():
        b = build(db, args.scale)
        figures.append(("demo generation (numpy)", f"{b['generate_s']:.2f} s"))
        figures.append(("bulk load via Arrow (target ≤ 10 s)", f"{b['load_s']:.2f} s"))
    cats = load_catalogues()
    n_kpis = sum(len(c.kpis) for c in cats.values())
    if args.pages_only:
        _pages(db, cats, figures)
        _print(figures)
        return
    with Store.open(db, read_only=True) as store:
        placements, trainings = store.count("placements"), store.count("trainings")
        engine = Engine(store, cats)
        engine_s, results = timed(lambda: engine.compute(AS_OF), args.runs)
        frames = load_frames(store.cursor())
    pandas_s, reference = timed(lambda: compute_all(frames, cats, AS_OF), max(1, min(args.runs, 3)))

    mismatches = []
    for r in results:
        ref = reference[r.kpi_id]["actual"]
        if (r.actual is None) != (ref is None) or (ref is not None and abs(r.actual - ref) > 1e-6 * max(1, abs(ref))):
            mismatches.append(f"{r.kpi_id}: engine {r.actual} pandas {ref}")

    figures[:0] = [("data", f"{placements:,} placements, {trainings:,} trainings; {n_kpis} KPIs, as of {AS_OF}")]
    figures.append((f"engine: all KPIs, median of {args.runs} warm runs (target ≤ 1 s)", f"{engine_s * 1000:.0f} ms"))
    figures.append(("pandas: same definitions, data already in memory", f"{pandas_s * 1000:.0f} ms"))
    figures.append(("ratio pandas / engine (target ≥ 10×)", f"{pandas_s / engine_s:.1f}×"))
    figures.append(("engine and pandas agree on every KPI", "yes" if not mismatches else f"NO: {mismatches[:5]}"))
    if args.xlsx_rows:
        _import_figures(args.xlsx_rows, args.runs, figures)
    _pages(db, cats, figures)
    _print(figures)


def _pages(db: Path, cats: dict[str, Any], figures: list[tuple[str, str]]) -> None:
    from tests.bench import pages

    if Path(pages.CHROMIUM).exists():
        n_tiles = 6 + sum(1 for c in cats.values() for k in c.kpis if not k.monitoring)
        over, detail = pages.browser_times(db, AS_OF, n_tiles)
        figures.append(
            (f"browser: all {n_tiles} overview metrics visible, warm server (target ≤ 1.5 s)", f"{over:.2f} s")
        )
        figures.append(("browser: KPI detail charts drawn (target ≤ 3 s)", f"{detail:.2f} s"))
    else:
        figures.append(("browser timings", "skipped: /usr/bin/chromium not installed"))
    # after the browser run: AppTest opens the database in this process and holds its write lock
    cold, warm, rerun = pages.script_runs(db, AS_OF)
    figures.append(("overview script run: first in the process (cold caches)", f"{cold * 1000:.0f} ms"))
    figures.append(("overview script run, new session, warm caches (target ≤ 300 ms)", f"{warm * 1000:.0f} ms"))
    figures.append(("overview rerun, unchanged inputs (target ≤ 100 ms)", f"{rerun * 1000:.0f} ms"))


def _print(figures: list[tuple[str, str]]) -> None:
    width = max(len(k) for k, _ in figures)
    print("\nBenchmark results")
    for k, v in figures:
        print(f"  {k:<{width}}  {v}")


if __name__ == "__main__":
    main()
