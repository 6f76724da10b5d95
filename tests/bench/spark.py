"""`make bench-spark`: DuckDB and local Spark side by side on the same Parquet lake folder (issue 13 item 5,
docs/spark.md "Measured: DuckDB and Spark side by side").

For each scale the demo database is built under data/bench/ (kept, as tests/bench/run.py keeps its own:
kpi-scale<N>.duckdb) and exported once with `export_lake` to data/bench/lake-scale<N>/ (kept while its manifest
is there). Then each engine runs in a process of its own, on the same folder:

- duckdb-lake: an in-memory DuckDB with views over the Parquet files (metrics/lake/duckdb_lake.py);
- spark: `SparkBackend.from_lake(session("local[2]"), lake)` (metrics/lake/spark.py);
- for reference, the DuckDB file itself: the base tables (path="base") and the rollups (path="auto").

Each worker times its start (imports, session or JVM, views), the first `Engine.compute(as_of)` of all KPIs and
the median of 3 warm ones, and writes every result to a JSON file. This process samples the worker's whole
process tree (the worker, and for Spark the spark-submit launcher and the JVM, a grandchild) every 100 ms from
/proc and keeps the peak of the summed RSS, and of the summed PSS (shared pages counted once), as the memory
figure; `getrusage(RUSAGE_CHILDREN).ru_maxrss` is printed too, but it is the largest single process waited for,
not the tree's total. Afterwards every KPI's result is compared across engines as the conformance suite does
(tests/spark_support.py).

Usage: python -m tests.bench.spark [--scales 10 100] [--runs 3] [--engines duckdb-lake spark duckdb-file duckdb-rollups]
(`--scales 10 100 1000` adds the scale-1000 file of `make bench SCALE=1000`; its export takes about 10 minutes.)
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

AS_OF = dt.date(2026, 11, 21)
BENCH_DIR = Path("data/bench")
ENGINES = ("duckdb-lake", "spark", "duckdb-file", "duckdb-rollups")
SAMPLE_S = 0.1
PAGE = os.sysconf("SC_PAGE_SIZE")


def paths(scale: float) -> tuple[Path, Path]:
    return BENCH_DIR / f"kpi-scale{scale:g}.duckdb", BENCH_DIR / f"lake-scale{scale:g}"


def prepare(scale: float) -> dict[str, Any]:
    """The demo database (tests/bench/run.py's build, reused when present) and its lake folder (reused when its
    manifest is there); returns the rows per record type from the manifest."""
    from metrics.lake.parquet import export_lake, read_manifest
    from metrics.storage.store import Store
    from tests.bench.run import build

    db, lake = paths(scale)
    if not db.exists():
        t0 = time.perf_counter()
        build(db, scale)
        print(f"  built {db} in {time.perf_counter() - t0:.0f} s", flush=True)
    if not (lake / "manifest.json").is_file():
        t0 = time.perf_counter()
        with Store.open(db, read_only=True) as store:
            export_lake(store, lake, force=True)
        print(f"  exported {lake} in {time.perf_counter() - t0:.0f} s", flush=True)
    manifest = read_manifest(lake)
    mb = sum(f.stat().st_size for f in lake.rglob("*.parquet")) / 1e6
    return {
        "rows": manifest.total_rows,
        "per_record": {k: e.rows for k, e in manifest.records.items()},
        "parquet_mb": mb,
        "files": sum(len(e.files) for e in manifest.records.values()),
    }


# --------------------------------------------------------------------------- the worker (one engine, one process)


def worker(engine_name: str, scale: float, runs: int, out: Path) -> None:
    t0 = time.perf_counter()
    from metrics.catalogue import load_catalogues
    from metrics.kpi.engine import Engine

    cats = load_catalogues()
    imports_s = time.perf_counter() - t0
    db, lake = paths(scale)
    t1 = time.perf_counter()
    closing: Any = None
    views_s = 0.0
    if engine_name == "spark":
        from metrics.lake.spark import SparkBackend, session

        spark = session("local[2]")
        session_s = time.perf_counter() - t1
        t2 = time.perf_counter()
        engine = Engine(None, cats, backend=SparkBackend.from_lake(spark, lake))
        views_s = time.perf_counter() - t2
        closing = spark.stop
    elif engine_name == "duckdb-lake":
        from metrics.lake.duckdb_lake import DuckDBLakeBackend

        backend = DuckDBLakeBackend.from_lake(lake)
        session_s = time.perf_counter() - t1
        engine = Engine(None, cats, backend=backend)
        closing = backend.close
    else:
        from metrics.storage.store import Store

        store = Store.open(db, read_only=True)
        session_s = time.perf_counter() - t1
        engine = Engine(store, cats, path="auto" if engine_name == "duckdb-rollups" else "base")
        closing = store.close
    t3 = time.perf_counter()
    results = engine.compute(AS_OF)
    first_s = time.perf_counter() - t3
    warm = []
    for _ in range(runs):
        t4 = time.perf_counter()
        engine.compute(AS_OF)
        warm.append(time.perf_counter() - t4)
    figures = {
        "imports_s": imports_s,
        "session_s": session_s,
        "views_s": views_s,
        "first_s": first_s,
        "warm_s": statistics.median(warm),
        "warm_all_s": warm,
        "results": [r.as_dict() for r in results],
    }
    out.write_text(json.dumps(figures, default=_jsonable, ensure_ascii=False), encoding="utf-8")
    closing()


def _jsonable(v: Any) -> Any:
    if isinstance(v, Decimal):
        return float(v)
    if isinstance(v, dt.date):
        return v.isoformat()
    if hasattr(v, "item"):  # numpy scalars
        return v.item()
    raise TypeError(f"not JSON: {type(v).__name__}")


# --------------------------------------------------------------------------- memory of a process tree


def _tree(root: int) -> list[int]:
    """The pid and every descendant's, from /proc/<pid>/stat's parent field."""
    parent: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as f:
                stat = f.read()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        parent.setdefault(ppid, []).append(int(entry))
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(parent.get(pid, []))
    return out


def _memory(pid: int) -> tuple[int, int]:
    """(RSS, PSS) in bytes of one process, from /proc/<pid>/smaps_rollup; (0, 0) once it has gone."""
    rss = pss = 0
    try:
        with open(f"/proc/{pid}/smaps_rollup", encoding="ascii") as f:
            for line in f:
                if line.startswith("Rss:"):
                    rss = int(line.split()[1]) * 1024
                elif line.startswith("Pss:"):
                    pss = int(line.split()[1]) * 1024
    except OSError:
        try:
            with open(f"/proc/{pid}/statm", encoding="ascii") as f:
                rss = pss = int(f.read().split()[1]) * PAGE
        except OSError:
            return 0, 0
    return rss, pss


def run_worker(engine_name: str, scale: float, runs: int, timeout_s: float) -> dict[str, Any]:
    """One engine in its own process; its tree's peak memory sampled every 100 ms; its figures and results."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "figures.json"
        argv = [sys.executable, "-m", "tests.bench.spark", "--worker", engine_name, "--scale", f"{scale:g}"]
        argv += ["--runs", str(runs), "--out", str(out)]
        load_before = os.getloadavg()
        t0 = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        peak_rss = peak_pss = 0
        peak_procs = 0
        while proc.poll() is None:
            pids = _tree(proc.pid)
            mem = [_memory(p) for p in pids]
            peak_rss = max(peak_rss, sum(m[0] for m in mem))
            peak_pss = max(peak_pss, sum(m[1] for m in mem))
            peak_procs = max(peak_procs, sum(1 for m in mem if m[0]))
            if time.perf_counter() - t0 > timeout_s:
                proc.kill()
                raise SystemExit(f"{engine_name} at scale {scale:g} took over {timeout_s:.0f} s")
            time.sleep(SAMPLE_S)
        stdout, stderr = proc.communicate()
        wall_s = time.perf_counter() - t0
        if proc.returncode != 0 or not out.exists():
            raise SystemExit(f"{engine_name} at scale {scale:g} failed:\n{stderr.decode(errors='replace')[-3000:]}")
        figures: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    figures.update(
        {
            "engine": engine_name,
            "peak_rss_mb": peak_rss / 1e6,
            "peak_pss_mb": peak_pss / 1e6,
            "processes": peak_procs,
            "process_s": wall_s,
            "load_before": load_before,
            "load_after": os.getloadavg(),
        }
    )
    return figures


# --------------------------------------------------------------------------- comparing


def differing(a: list[dict[str, Any]], b: list[dict[str, Any]]) -> list[str]:
    """KPIs whose results differ, compared as the conformance suite compares them (tests/spark_support.py `same`:
    whole numbers exactly, other floats to 1e-9 relative)."""
    from tests.spark_support import same

    if [r["kpi_id"] for r in a] != [r["kpi_id"] for r in b]:
        return ["(the lists of KPIs differ)"]
    out = []
    for ra, rb in zip(a, b, strict=True):
        try:
            same(ra, rb, ra["kpi_id"])
        except AssertionError as exc:
            out.append(str(exc).splitlines()[0])
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scales", type=float, nargs="+", default=[10.0, 100.0])
    ap.add_argument("--runs", type=int, default=3, help="warm runs after the first (median)")
    ap.add_argument("--engines", nargs="+", choices=ENGINES, default=list(ENGINES))
    ap.add_argument("--timeout", type=float, default=3600.0, help="seconds allowed to one engine's process")
    ap.add_argument("--worker", choices=ENGINES, help=argparse.SUPPRESS)
    ap.add_argument("--scale", type=float, help=argparse.SUPPRESS)
    ap.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        worker(args.worker, args.scale, args.runs, args.out)
        return

    print(f"DuckDB and local Spark on the same lake folder, as of {AS_OF}; {os.cpu_count()} cores", flush=True)
    table: list[dict[str, Any]] = []
    by_scale: dict[float, dict[str, Any]] = {}
    for scale in args.scales:
        data = prepare(scale)
        print(
            f"scale {scale:g}: {data['rows']:,} rows ({data['per_record']['placements']:,} placements), "
            f"{data['files']} Parquet files, {data['parquet_mb']:.0f} MB",
            flush=True,
        )
        runs: dict[str, Any] = {}
        for name in args.engines:
            f = run_worker(name, scale, args.runs, args.timeout)
            f.update(scale=scale, rows=data["rows"])
            runs[name] = f
            table.append(f)
            print(
                f"  {name}: start {f['session_s'] + f['views_s']:.2f} s (session {f['session_s']:.2f} s, views "
                f"{f['views_s']:.2f} s; imports {f['imports_s']:.2f} s), first "
                f"{f['first_s']:.2f} s, warm {f['warm_s']:.3f} s ({', '.join(f'{x:.3f}' for x in f['warm_all_s'])}), "
                f"peak RSS {f['peak_rss_mb']:,.0f} MB (PSS {f['peak_pss_mb']:,.0f} MB, {f['processes']} processes), "
                f"load {f['load_before'][0]:.2f} -> {f['load_after'][0]:.2f}",
                flush=True,
            )
        reference = runs.get("duckdb-lake") or runs.get("duckdb-file")
        if reference is not None:
            for name, f in runs.items():
                if f is reference:
                    continue
                diff = differing(reference["results"], f["results"])
                n = len(f["results"])
                with_data = sum(r["actual"] is not None for r in f["results"])
                verdict = "all equal" if not diff else f"{len(diff)} DIFFER: {diff[:3]}"
                print(f"  {reference['engine']} vs {name}: {n} KPIs ({with_data} with data), {verdict}", flush=True)
                f["agree"] = not diff
        by_scale[scale] = runs

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    _print_table(table, args.runs)
    _print_marginal(by_scale)
    print(
        f"\nmemory: peak of the summed RSS (and PSS) of each engine's process tree, sampled every {SAMPLE_S * 1000:.0f} ms "
        f"from /proc; getrusage(RUSAGE_CHILDREN).ru_maxrss, the largest single process waited for: "
        f"{usage.ru_maxrss / 1000:,.0f} MB"
    )
    print("load average now (1, 5, 15 min):", ", ".join(f"{x:.2f}" for x in os.getloadavg()))


def _print_table(table: list[dict[str, Any]], runs: int) -> None:
    print(
        f"\n| scale | rows | engine | start s | first compute s | warm s (median of {runs}) | peak MB (RSS / PSS) | Spark ÷ DuckDB-lake (first, warm, peak RSS) | agree |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for f in table:
        ratio = ""
        if f["engine"] == "spark":
            ref = next((g for g in table if g["scale"] == f["scale"] and g["engine"] == "duckdb-lake"), None)
            if ref is not None:
                ratio = (
                    f"{f['first_s'] / ref['first_s']:.1f}×, {f['warm_s'] / ref['warm_s']:.1f}×, "
                    f"{f['peak_rss_mb'] / ref['peak_rss_mb']:.1f}×"
                )
        agree = {True: "yes", False: "NO"}.get(f.get("agree"), "reference")
        print(
            f"| {f['scale']:g} | {f['rows']:,} | {f['engine']} | {f['session_s'] + f['views_s']:.2f} | "
            f"{f['first_s']:.2f} | {f['warm_s']:.3f} | {f['peak_rss_mb']:,.0f} / {f['peak_pss_mb']:,.0f} | {ratio} | {agree} |"
        )


def _print_marginal(by_scale: dict[float, dict[str, Any]]) -> None:
    scales = sorted(by_scale)
    for lo, hi in zip(scales, scales[1:], strict=False):
        print(f"\nmarginal cost from scale {lo:g} to {hi:g} (Δ seconds ÷ Δ million rows; Δ MB ÷ Δ million rows):")
        for name in by_scale[hi]:
            if name not in by_scale[lo]:
                continue
            a, b = by_scale[lo][name], by_scale[hi][name]
            d_rows = (b["rows"] - a["rows"]) / 1e6
            print(
                f"  {name}: first {(b['first_s'] - a['first_s']) / d_rows:.4f} s, warm "
                f"{(b['warm_s'] - a['warm_s']) / d_rows:.4f} s per million rows; peak RSS "
                f"{(b['peak_rss_mb'] - a['peak_rss_mb']) / d_rows:+.1f} MB per million rows"
            )


if __name__ == "__main__":
    main()
