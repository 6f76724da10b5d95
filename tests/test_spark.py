"""The conformance suite (docs/spark.md "Conformance"): every KPI of the four catalogues, and the hand-made edge
cases of tests/test_engine.py, computed by DuckDB and by local PySpark over the same data — the demo exported
as a lake folder — must agree: every actual, numerator and denominator (exactly for counts, to 1e-9 for
rates), every status, and every breakdown table. Plus the compile-time refusals, which need no Java.

Spark runs in one session for the whole test run (tests/conftest.py `spark`); without Java or PySpark these
tests skip with a message saying how to enable them, except under CI=true."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from metrics.catalogue import catalogue_version, load_catalogues
from metrics.cli.main import main
from metrics.demo.build import build_demo
from metrics.kpi.engine import Engine
from metrics.lake.parquet import export_lake
from metrics.storage import clock
from metrics.storage.store import Store
from tests import engine_cases as cases
from tests.spark_support import require_sqlglot, same_frames, same_results
from tests.support import tiny_catalogue

DEMO_AS_OF = dt.date(2026, 11, 21)
# the demo's as-of date, a year's first day and the day before it (windows of one day, a whole year), mid-year,
# and a date before most programmes began (no data: statuses and empty results must agree too)
AS_OF_DATES = [DEMO_AS_OF, dt.date(2026, 1, 1), dt.date(2025, 12, 31), dt.date(2025, 6, 15), dt.date(2024, 3, 1)]
CATS = load_catalogues()


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The demo generator at a small scale (~370k rows), and its lake folder."""
    root = tmp_path_factory.mktemp("spark")
    db, lake = root / "demo.duckdb", root / "lake"
    build_demo(db, seed=5, scale=0.05, as_of=DEMO_AS_OF)
    with Store.open(db, read_only=True) as store, clock.pinned(dt.datetime(2026, 11, 21, 10, 30)):
        export_lake(store, lake)
    return db, lake


@pytest.fixture(scope="module")
def demo_engines(demo: tuple[Path, Path], spark: Any) -> Any:
    from metrics.lake.spark import SparkBackend

    db, lake = demo
    with Store.open(db, read_only=True) as store:
        yield Engine(store, CATS, path="base"), Engine(None, CATS, backend=SparkBackend.from_lake(spark, lake))


# --------------------------------------------------------------------------- comparing


# --------------------------------------------------------------------------- the four catalogues


@pytest.mark.slow
@pytest.mark.parametrize("as_of", AS_OF_DATES)
def test_every_kpi_equal_on_spark_and_duckdb(demo_engines: Any, as_of: dt.date) -> None:
    duck, spark = demo_engines
    d, s = duck.compute(as_of), spark.compute(as_of)
    assert len(d) == sum(len(c.kpis) for c in CATS.values()) >= 140
    same_results(d, s)
    if as_of == DEMO_AS_OF:  # the comparison is not vacuous: most KPIs have data on the demo's date
        assert sum(r.actual is not None for r in s) >= 120


@pytest.mark.slow
def test_every_breakdown_equal_on_spark_and_duckdb(demo_engines: Any) -> None:
    duck, spark = demo_engines
    compared = 0
    for cat in CATS.values():
        for kpi in cat.kpis:
            for dim in kpi.dimensions:
                a = duck.breakdown(kpi.id, dim, DEMO_AS_OF)
                b = spark.breakdown(kpi.id, dim, DEMO_AS_OF)
                same_frames(a, b, f"{kpi.id} by {dim}")
                compared += len(a) > 0
    assert compared >= 100  # breakdowns with rows, not empty tables agreeing


@pytest.mark.slow
def test_trend_series_equal_on_spark_and_duckdb(demo_engines: Any) -> None:
    duck, spark = demo_engines
    for kpi_id in ("tz-contract-signing-rate", "tz-recruitment-events", "cp-huitian-circle-share"):
        same_frames(duck.series(kpi_id, DEMO_AS_OF, "month"), spark.series(kpi_id, DEMO_AS_OF, "month"), kpi_id)


@pytest.mark.slow
def test_kpi_compute_prints_the_same_json_on_both_engines(demo: tuple[Path, Path], spark: Any) -> None:
    db, lake = demo
    runner = CliRunner()
    common = ["compute", "--as-of", DEMO_AS_OF.isoformat(), "--format", "json"]
    on_duck = runner.invoke(main, [*common, "--db", str(db)])
    out = lake.parent / "results"
    on_spark = runner.invoke(
        main, [*common, "--engine", "spark", "--lake", str(lake), "--master", "local[1]", "--results-path", str(out)]
    )
    assert on_duck.exit_code == 0, on_duck.output
    assert on_spark.exit_code == 0, on_spark.output
    assert json.loads(on_spark.stdout) == json.loads(on_duck.stdout)
    # the results written back are the same records, stamped with the catalogue's version
    back = spark.read.parquet(str(out)).collect()
    assert len(back) == len(json.loads(on_duck.stdout))
    assert {r["catalogue_version"] for r in back} == {catalogue_version()} and {r["engine"] for r in back} == {"spark"}
    by_id = {r["kpi_id"]: r for r in back}
    for rec in json.loads(on_duck.stdout):
        assert by_id[rec["kpi_id"]]["actual"] == rec["actual"] and by_id[rec["kpi_id"]]["status"] == rec["status"]
        assert by_id[rec["kpi_id"]]["as_of"] == DEMO_AS_OF
    refused = runner.invoke(main, [*common, "--db", str(db), "--results-path", str(out)])
    assert refused.exit_code != 0 and "--engine spark" in refused.output


@pytest.mark.slow
def test_results_written_again_replace_only_their_date(tiny_engines: Any, spark: Any, tmp_path: Path) -> None:
    from metrics.lake.spark import write_results

    _, engine = tiny_engines
    first, second = cases.AS_OF, dt.date(2026, 6, 30)
    with clock.pinned(dt.datetime(2026, 11, 21, 10, 30)):  # Beijing time
        n = write_results(spark, engine.compute(first), first, path=tmp_path / "r")
    stamped = spark.read.parquet(str(tmp_path / "r")).selectExpr("date_format(computed_at, 'yyyy-MM-dd HH:mm') AS t")
    assert {r["t"] for r in stamped.collect()} == {"2026-11-21 10:30"}  # the session reads Asia/Shanghai
    write_results(spark, engine.compute(second), second, path=tmp_path / "r")
    write_results(spark, engine.compute(first), first, path=tmp_path / "r")  # a rerun of the first date
    rows = spark.read.parquet(str(tmp_path / "r")).collect()
    assert len(rows) == 2 * n and {r["as_of"] for r in rows} == {first, second}
    write_results(spark, engine.compute(first), first, table="kpi_results_test")
    write_results(spark, engine.compute(first), first, table="kpi_results_test")
    assert spark.table("kpi_results_test").count() == n
    spark.sql("DROP TABLE kpi_results_test")


# --------------------------------------------------------------------------- the hand-made edge cases


@pytest.fixture(scope="module")
def tiny_engines(tmp_path_factory: pytest.TempPathFactory, spark: Any) -> Any:
    """tests/test_engine.py's records (every measure kind, windows' edges, other districts, nulls) on both."""
    from metrics.lake.spark import SparkBackend

    root = tmp_path_factory.mktemp("spark-tiny")
    cats = {"tiny": tiny_catalogue(cases.KPIS)}
    with Store.open(root / "tiny.duckdb") as store:
        cases.fill(store)
        with clock.pinned(dt.datetime(2026, 11, 21, 10, 30)):
            export_lake(store, root / "lake")
        yield Engine(store, cats, path="base"), Engine(None, cats, backend=SparkBackend.from_lake(spark, root / "lake"))


@pytest.mark.slow
@pytest.mark.parametrize("as_of", [cases.AS_OF, dt.date(2026, 1, 1), dt.date(2025, 1, 1), dt.date(2024, 6, 1)])
def test_edge_cases_equal_on_spark_and_duckdb(tiny_engines: Any, as_of: dt.date) -> None:
    duck, spark = tiny_engines
    d, s = duck.compute(as_of), spark.compute(as_of)
    same_results(d, s)
    if as_of == cases.AS_OF:  # the values test_engine.py computed by hand
        got = {r.kpi_id: r for r in s}
        assert got["events"].actual == 4  # E1-E4: tests/test_engine.py
        assert (got["contract-rate"].numerator, got["contract-rate"].denominator) == (118 + 76, 120 + 80)
        for kpi in tiny_catalogue(cases.KPIS).kpis:
            for dim in kpi.dimensions:
                same_frames(duck.breakdown(kpi.id, dim, as_of), spark.breakdown(kpi.id, dim, as_of), kpi.id)
        for kpi_id in ("contract-rate", "people-trained", "local-ratio"):
            same_frames(duck.series(kpi_id, as_of, "month"), spark.series(kpi_id, as_of, "month"), kpi_id)


@pytest.mark.slow
def test_tables_named_in_a_mapping_are_read_like_the_lake(demo: tuple[Path, Path], spark: Any) -> None:
    """A metastore's own table names (docs/spark.md "Tables by name"), here temporary views of other names."""
    from metrics.lake.spark import SparkBackend

    db, lake = demo
    mapping = {}
    for record in ("events", "disputes", "contract_returns"):  # global: the backend has a session of its own
        spark.read.parquet(str(lake / record)).createOrReplaceGlobalTempView(f"dw_{record}")
        mapping[record] = f"global_temp.dw_{record}"
    engine = Engine(None, CATS, backend=SparkBackend.from_tables(spark, mapping))
    ids = ["tz-recruitment-events", "tz-contract-signing-rate", "tz-dispute-closure-rate"]
    with Store.open(db, read_only=True) as store:
        duck = Engine(store, CATS, path="base")
        same_results([duck.compute_kpi(k, DEMO_AS_OF) for k in ids], [engine.compute_kpi(k, DEMO_AS_OF) for k in ids])
    assert "placements" in engine.backend.missing and "events" not in engine.backend.missing  # type: ignore[attr-defined]
    from metrics.lake.spark import unprovided

    warned = unprovided(engine)  # what `kpi compute --engine spark` warns about on stderr
    assert "cp-huitian-circle-share" in warned["placements"] and "events" not in warned
    with pytest.raises(ValueError, match="unknown record types"):
        SparkBackend.from_tables(spark, {"placement": "dw_events"})


@pytest.mark.slow
def test_two_lakes_in_one_process_keep_their_own_views(demo_engines: Any, tiny_engines: Any) -> None:
    """Each backend has a Spark session of its own: the tiny lake's views do not replace the demo's."""
    (duck, spark_demo), (_, spark_tiny) = demo_engines, tiny_engines
    ids = ["tz-recruitment-events", "tz-contract-signing-rate"]
    same_results([duck.compute_kpi(k, DEMO_AS_OF) for k in ids], [spark_demo.compute_kpi(k, DEMO_AS_OF) for k in ids])
    assert spark_tiny.compute_kpi("events", cases.AS_OF).actual == 4


# --------------------------------------------------------------------------- refused at compile time (no Java)


@pytest.mark.parametrize(
    ("sql", "named"),
    [
        ("SELECT quantile_cont(monthly_wage, 0.5) FROM placements", "function quantile_cont"),
        ("SELECT count(*) FILTER (WHERE date_part('isodow', event_date) = 7) FROM events", "function date_part"),
        ("SELECT my_udf(x) FROM events", "function my_udf"),
        ("SELECT sum(positions) / count(*) FROM vacancies", "division"),
        ("SELECT count(*) FROM events WHERE event_date >= date_trunc('month', $d)", "date_trunc"),
        ("SELECT sum(monthly_wage) / nullif(count(*), 0) FROM placements", "must divide a DOUBLE"),
        ("SELECT sum(monthly_wage::INT) FROM placements", "cast"),
        ("SELECT count(DISTINCT monthly_wage::VARCHAR) FROM placements", "cast"),
        ("SELECT count(*) FROM events WHERE event_date + INTERVAL 1 DAY > $d", "interval"),
    ],
)
def test_what_could_differ_is_refused_naming_the_kpi_and_the_construct(sql: str, named: str) -> None:
    require_sqlglot()
    from metrics.lake.spark import UnsupportedOnSpark, to_spark

    with pytest.raises(UnsupportedOnSpark) as err:
        to_spark(sql, ["tz-median-wage"])
    assert "tz-median-wage" in str(err.value) and "tz-median-wage" in err.value.message_en
    assert named in err.value.message_en and "不能在 Spark 上计算" in err.value.message_zh


def test_what_the_compiler_writes_is_accepted_and_bound_by_name() -> None:
    require_sqlglot()
    from metrics.lake.spark import to_spark

    out = to_spark(
        "SELECT (sum(x) FILTER (WHERE d BETWEEN $p0 AND $p1))::DOUBLE / nullif(count(x), 0), "
        "radians(lat - 40.075) / 2, date_trunc('month', $p0::DATE)::DATE FROM placements "
        "WHERE list_contains($p2, channel)",
        ["k"],
    )
    assert ":p0" in out and ":p2" in out and "$" not in out
    assert "ARRAY_CONTAINS" in out and "NULLIF" in out and "TRUNC" in out


def test_a_named_query_spark_cannot_run_is_refused_before_spark_starts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """preflight (run by `kpi compute --engine spark` before the session starts) and the engine both name the KPI."""
    require_sqlglot()
    import metrics.catalogue
    import metrics.kpi.engine
    from metrics.lake.spark import SparkBackend, UnsupportedOnSpark, preflight

    (tmp_path / "median_wage.sql").write_text(
        "SELECT district, street, quantile_cont(monthly_wage, 0.5) AS numerator, 1.0 AS denominator\n"
        "FROM placements WHERE district = $district GROUP BY district, street\n",
        encoding="utf-8",
    )
    monkeypatch.setattr(metrics.catalogue, "SQL_DIR", tmp_path)
    monkeypatch.setattr(metrics.kpi.engine, "SQL_DIR", tmp_path)
    kpi = {"id": "median-wage", "measure": {"kind": "sql", "file": "median_wage.sql", "source": "placements"}}
    cats = {"tiny": tiny_catalogue([{**kpi, "monitoring": True}])}
    with pytest.raises(UnsupportedOnSpark, match="median-wage.*quantile_cont"):
        preflight(cats)
    engine = Engine(None, cats, backend=SparkBackend(spark=None))  # type: ignore[arg-type] - never reached
    with pytest.raises(UnsupportedOnSpark, match="median-wage"):
        engine.compute(dt.date(2026, 11, 21))


def test_the_catalogues_pass_preflight() -> None:
    require_sqlglot()
    from metrics.lake.spark import preflight

    preflight(CATS)


def test_an_engine_on_spark_reads_no_rollups() -> None:
    require_sqlglot()
    from metrics.lake.spark import SparkBackend

    backend = SparkBackend(spark=None)  # type: ignore[arg-type]
    assert Engine(None, CATS, backend=backend).path == "base"
    with pytest.raises(ValueError, match="keeps no rollups"):
        Engine(None, CATS, backend=backend, path="rollup")


# --------------------------------------------------------------------------- Spark Connect, a real server


@pytest.fixture(scope="module")
def connect_server(tmp_path_factory: pytest.TempPathFactory, spark: Any) -> Any:
    """A Spark Connect server on 127.0.0.1 (the one in PySpark's own jars, started with its spark-submit)."""
    import importlib.util
    import os
    import socket
    import subprocess
    import time

    if importlib.util.find_spec("grpc") is None:
        from tests.spark_support import _unavailable

        _unavailable("the Spark Connect client (pyspark[connect]: grpcio) is not installed")
    import pyspark

    home = Path(pyspark.__file__).parent
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = tmp_path_factory.mktemp("connect") / "server.log"
    cmd = [
        str(home / "bin" / "spark-submit"),
        "--class",
        "org.apache.spark.sql.connect.service.SparkConnectServer",
        "--master",
        "local[1]",
        "--conf",
        "spark.connect.grpc.binding.address=127.0.0.1",
        "--conf",
        f"spark.connect.grpc.binding.port={port}",
        "--conf",
        "spark.ui.enabled=false",
        "--conf",
        "spark.sql.session.timeZone=Asia/Shanghai",
        "spark-internal",
    ]
    env = {**os.environ, "SPARK_HOME": str(home)}
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env)
        try:
            deadline = time.monotonic() + 180
            while f"started at: 127.0.0.1:{port}" not in log.read_text(errors="replace"):
                assert proc.poll() is None and time.monotonic() < deadline, log.read_text(errors="replace")[-2000:]
                time.sleep(0.5)
            yield f"sc://127.0.0.1:{port}"
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()


@pytest.mark.slow
def test_kpi_compute_through_spark_connect_prints_the_same_json(demo: tuple[Path, Path], connect_server: str) -> None:
    """`--remote sc://…`: the client in its own process (a process holds one kind of session), the server real."""
    import shutil
    import subprocess
    import sys

    db, lake = demo
    kpi = shutil.which("kpi", path=str(Path(sys.executable).parent)) or "kpi"
    common = ["compute", "--as-of", DEMO_AS_OF.isoformat(), "--programme", "tongzhou-2025", "--format", "json"]
    on_duck = subprocess.run([kpi, *common, "--db", str(db)], capture_output=True, text=True, timeout=120)
    on_connect = subprocess.run(
        [kpi, *common, "--engine", "spark", "--lake", str(lake), "--remote", connect_server],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert on_duck.returncode == 0, on_duck.stderr
    assert on_connect.returncode == 0, on_connect.stderr[-3000:]
    assert json.loads(on_connect.stdout) == json.loads(on_duck.stdout)
    assert len(json.loads(on_duck.stdout)) >= 30


@pytest.mark.slow
def test_a_lake_changed_after_its_export_is_refused_and_a_uri_is_read(tmp_path: Path, spark: Any) -> None:
    import shutil

    from metrics.lake.parquet import LakeError
    from metrics.lake.spark import LakeMismatch, SparkBackend

    cats = {"tiny": tiny_catalogue(cases.KPIS)}
    with Store.open(tmp_path / "t.duckdb") as store:
        cases.fill(store)
        with clock.pinned(dt.datetime(2026, 11, 21, 10, 30)):
            export_lake(store, tmp_path / "lake")
        duck = Engine(store, cats, path="base").compute(cases.AS_OF)
    uri = (tmp_path / "lake").as_uri()  # file://…: read through Spark, as hdfs:// or s3a:// would be
    by_uri = Engine(None, cats, backend=SparkBackend.from_lake(spark, uri))
    same_results(duck, by_uri.compute(cases.AS_OF))
    victim = next((tmp_path / "lake" / "events").rglob("*.parquet"))
    shutil.copy(victim, victim.with_name("part-1.parquet"))  # a file behind the manifest's back
    with pytest.raises(LakeError, match="part-1.parquet"):  # a local folder is checked file by file
        SparkBackend.from_lake(spark, tmp_path / "lake")
    SparkBackend.from_lake(spark, uri)  # through Spark only the listed files are read: still the export's rows
    victim.unlink()
    with pytest.raises(LakeMismatch, match="events"):
        SparkBackend.from_lake(spark, uri)
