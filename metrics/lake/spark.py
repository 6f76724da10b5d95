"""The catalogue computed on Apache Spark: the engine's own statements, transpiled (docs/spark.md).

There is one set of KPI definitions and one compiler (`metrics.storage.compile`, `metrics/kpi/sql/`). The
engine hands this backend the DuckDB SQL it would run on the district's file; `to_spark` parses it with
sqlglot, refuses what could differ silently, and writes Spark SQL, which runs with bound parameters
(`spark.sql(sql, args=...)`) over views named after the record types. The status, pace and projection rules
run in the engine on the results, as for DuckDB.

What `to_spark` refuses, at compile time, before anything reaches Spark:

- a function not on `ALLOWED_FUNCTIONS` — the functions the conformance suite (tests/test_spark.py) runs on
  both engines. `date_part('isodow', …)` or `quantile_cont` transpile without error but fail or differ on Spark;
- a division whose divisor is not `nullif(…, 0)`: DuckDB gives inf or NaN for x/0, Spark 4 (ANSI mode)
  raises, so only a guarded division means the same on both;
- a `date_trunc` not cast back to DATE: DuckDB's returns a TIMESTAMP, the Spark translation (TRUNC) a DATE.

    >>> spark = session("local[2]")
    >>> engine = Engine(None, backend=SparkBackend.from_lake(spark, Path("lake/")))
    >>> engine.compute(dt.date(2026, 11, 21))
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from metrics.contract.errors import KpiError
from metrics.contract.records import RECORD_TYPES

if TYPE_CHECKING:
    import pandas as pd
    from pyspark.sql import DataFrame, SparkSession

    from metrics.lake.parquet import Manifest

__all__ = [
    "ALLOWED_FUNCTIONS",
    "LakeMismatch",
    "SparkBackend",
    "SparkUnavailable",
    "UnsupportedOnSpark",
    "preflight",
    "session",
    "to_spark",
]

# sqlglot expression classes the statements may use: each is run on both engines by tests/test_spark.py.
# Connectors (AND, OR) are sqlglot functions too. Anything else, including every function sqlglot does not know
# (an `Anonymous` node), is refused with the KPI named (docs/spark.md "What is refused").
ALLOWED_FUNCTIONS: frozenset[str] = frozenset(
    {
        "And",
        "Or",
        "Count",
        "Sum",
        "Coalesce",
        "Nullif",
        "Cast",
        "ArrayContains",  # DuckDB list_contains(list, x) with a bound list
        "RowNumber",
        "DateTrunc",  # only cast to DATE (see _check)
        "Radians",
        "Pow",
        "Sin",
        "Cos",
        "Asin",
        "Sqrt",
    }
)

# DuckDB column types of the record spec -> Spark SQL types (the views cast every column to these).
SPARK_TYPES = {
    "VARCHAR": "STRING",
    "DATE": "DATE",
    "BOOLEAN": "BOOLEAN",
    "BIGINT": "BIGINT",
    "DOUBLE": "DOUBLE",
    "DECIMAL(18,2)": "DECIMAL(18,2)",
}


class SparkUnavailable(KpiError, RuntimeError):
    """PySpark or Java is missing: how to get them is in the message."""


class LakeMismatch(KpiError, ValueError):
    """A lake folder whose files no longer match its manifest."""


class UnsupportedOnSpark(KpiError, ValueError):
    """A statement uses something that would fail or differ on Spark; names the KPIs and the construct."""

    def __init__(self, kpis: Sequence[str], problem_zh: str, problem_en: str):
        self.kpis = list(kpis)
        self.problem_zh, self.problem_en = problem_zh, problem_en
        names = "、".join(self.kpis) or "（无）"
        super().__init__(
            f"指标 {names}：{problem_zh}，不能在 Spark 上计算",
            f"KPI {', '.join(self.kpis)}: {problem_en}; not computed on Spark (docs/spark.md)",
        )

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.kpis, self.problem_zh, self.problem_en))


@functools.lru_cache(maxsize=1024)
def _transpile(sql: str) -> tuple[str, tuple[str, str] | None]:
    """(Spark SQL, None) or ("", (problem_zh, problem_en)). Cached: the engine repeats a few statement shapes."""
    import sqlglot
    from sqlglot import exp

    try:
        tree = sqlglot.parse_one(sql, read="duckdb")
    except sqlglot.errors.ParseError as exc:
        return "", ("SQL 无法解析", f"the SQL does not parse ({exc})")
    for node in tree.find_all(exp.Func):
        name = type(node).__name__
        if name not in ALLOWED_FUNCTIONS:
            # the name as the DuckDB SQL spells it (sqlglot's class may be named after another dialect's)
            shown = node.sql(dialect="duckdb").split("(", 1)[0].strip().lower() or name
            return "", (
                f"函数 {shown} 不在 Spark 允许清单中",
                f"function {shown} is not on the Spark allow-list",
            )
        if isinstance(node, exp.DateTrunc):
            parent = node.parent
            if not (isinstance(parent, exp.Cast) and parent.to.is_type(exp.DataType.Type.DATE)):
                return "", (
                    "date_trunc 须转换为 DATE（DuckDB 返回 TIMESTAMP，Spark 返回 DATE）",
                    "date_trunc must be cast to DATE (a TIMESTAMP on DuckDB, a DATE on Spark)",
                )
    for cast in tree.find_all(exp.Cast):
        problem = _cast_problem(cast)
        if problem:
            return "", problem
    if tree.find(exp.Interval) is not None:
        return "", (
            "不支持日期间隔运算（DuckDB 得 TIMESTAMP，Spark 得 DATE）",
            "interval arithmetic is not supported (a TIMESTAMP on DuckDB, a DATE on Spark)",
        )
    for div in tree.find_all(exp.Div):
        divisor = div.expression
        while isinstance(divisor, exp.Paren):
            divisor = divisor.this
        dividend = div.this
        while isinstance(dividend, exp.Paren):
            dividend = dividend.this
        if not (_is_double(dividend)):
            return "", (
                f"除法 {div.sql(dialect='duckdb')} 的被除数须为 DOUBLE（::DOUBLE）：DECIMAL 相除时 Spark 只保留少数小数位",
                f"division {div.sql(dialect='duckdb')} must divide a DOUBLE (::DOUBLE): Spark keeps few decimal places "
                "when it divides DECIMALs",
            )
        if _is_number(divisor, nonzero=True):
            continue  # a constant divisor (the haversine's "/ 2")
        if not (isinstance(divisor, exp.Nullif) and _is_number(divisor.expression, nonzero=False)):
            return "", (
                f"除法 {div.sql(dialect='duckdb')} 的除数未用 nullif(…, 0) 保护",
                f"division {div.sql(dialect='duckdb')} has a divisor not guarded by nullif(…, 0) "
                "(inf on DuckDB, an error on Spark in ANSI mode)",
            )
    return tree.sql(dialect="spark", comments=False), None


# Math functions whose result is a DOUBLE on both engines whatever their argument.
_DOUBLE_FUNCTIONS = ("Radians", "Sin", "Cos", "Asin", "Sqrt", "Pow")


def _is_double(node: Any) -> bool:
    from sqlglot import exp

    if isinstance(node, exp.Cast):
        return bool(node.to.is_type(exp.DataType.Type.DOUBLE))
    return type(node).__name__ in _DOUBLE_FUNCTIONS


def _cast_problem(cast: Any) -> tuple[str, str] | None:
    """Casts mean the same on both engines only to DOUBLE and DATE, and to an integer only from a condition
    (true/false → 1/0): DuckDB rounds a number cast to an integer, Spark truncates, and numbers become
    different text."""
    from sqlglot import exp

    if cast.to.is_type(exp.DataType.Type.DOUBLE, exp.DataType.Type.DATE):
        return None
    inner = cast.this
    while isinstance(inner, exp.Paren):
        inner = inner.this
    condition = isinstance(inner, exp.Predicate | exp.Connector | exp.Not | exp.Boolean)
    if cast.to.is_type(*exp.DataType.INTEGER_TYPES) and condition:
        return None
    return (
        f"类型转换 {cast.sql(dialect='duckdb')} 在 DuckDB 与 Spark 上结果可能不同（只允许转为 DOUBLE、DATE，或把条件转为整数）",
        f"cast {cast.sql(dialect='duckdb')} may differ between DuckDB and Spark (only to DOUBLE or DATE, or a "
        "condition to an integer)",
    )


def _is_number(node: Any, *, nonzero: bool) -> bool:
    """A numeric literal: non-zero, or zero (the `nullif(x, 0)` guard)."""
    from sqlglot import exp

    if not (isinstance(node, exp.Literal) and not node.is_string):
        return False
    return (float(node.this) != 0) if nonzero else (float(node.this) == 0)


def to_spark(sql: str, kpis: Sequence[str]) -> str:
    """The engine's DuckDB statement as Spark SQL with `:name` parameters, or UnsupportedOnSpark."""
    out, problem = _transpile(sql)
    if problem is not None:
        raise UnsupportedOnSpark(kpis, *problem)
    return out


def preflight(catalogues: Mapping[str, Any]) -> None:
    """Transpile every named query file the catalogues use (metrics/kpi/sql/), so a KPI Spark cannot compute is
    refused before a Spark job starts. The compiled measures use only the compiler's few functions, which
    the conformance suite runs; the files are the one place a definition can bring its own."""
    from metrics.catalogue import SQL_DIR
    from metrics.catalogue.models import SqlMeasure

    for cat in catalogues.values():
        for kpi in cat.kpis:
            if isinstance(kpi.measure, SqlMeasure):
                body = (SQL_DIR / kpi.measure.file).read_text(encoding="utf-8")
                to_spark(f"SELECT sum(numerator), sum(denominator), count(*) FROM ({body})", [kpi.id])  # noqa: S608


# --------------------------------------------------------------------------- session


def session(master: str | None = None, *, remote: str | None = None, app_name: str = "employment-kpi") -> SparkSession:
    """A SparkSession for the engine: a local master (tests, one machine), a cluster's master URL, or a Spark
    Connect URL (`remote`, e.g. sc://spark.example:15002). Without a master: the one spark-submit was given when
    it started this process, else local[2]. Shuffle partitions follow the local core count; the UI is off for
    local runs; the session time zone is Asia/Shanghai, as the clock (docs/time.md)."""
    import warnings

    # PySpark 4.3 warns about pandas 3 when its SQL modules load (some lazily, at a first query); this backend
    # hands it no pandas objects. Under spark-submit the warning would land in stdout, inside `--format json`.
    warnings.filterwarnings("ignore", "PySpark does not yet fully support pandas", FutureWarning)
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise SparkUnavailable(
            "未安装 PySpark：pip install -e '.[spark]'，并需要 Java 17 / PySpark is not installed: "
            "pip install -e '.[spark]' (needs Java 17; Debian: apt-get install openjdk-17-jre-headless)"
        ) from exc
    builder = SparkSession.builder.appName(app_name)
    if remote:
        connected = builder.remote(remote).getOrCreate()
        connected.conf.set("spark.sql.session.timeZone", "Asia/Shanghai")
        return connected
    if not _java_present():
        raise SparkUnavailable(
            "未找到 Java：Spark 需要 Java 17（Debian: apt-get install openjdk-17-jre-headless）/ "
            "Java not found: Spark needs Java 17 (Debian: apt-get install openjdk-17-jre-headless)"
        )
    if master is None and not os.environ.get("PYSPARK_GATEWAY_PORT"):  # not started by spark-submit
        master = "local[2]"
    builder = builder.config("spark.sql.session.timeZone", "Asia/Shanghai")
    if master is not None:
        builder = builder.master(master)
    if master is not None and master.startswith("local"):
        cores = master[len("local[") : -1] if master.startswith("local[") else "1"
        builder = (
            builder.config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.sql.shuffle.partitions", cores if cores.isdigit() else "2")
            .config("spark.driver.bindAddress", "127.0.0.1")
            .config("spark.driver.host", "127.0.0.1")
        )
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def _java_present() -> bool:
    import shutil

    java_home = os.environ.get("JAVA_HOME")
    return bool(shutil.which("java") or (java_home and Path(java_home, "bin", "java").exists()))


# --------------------------------------------------------------------------- backend


class SparkBackend:
    """The engine's `Backend` on Spark: statements transpiled by `to_spark`, run over one view per record type."""

    name = "spark"
    rollups = False

    def __init__(self, spark: SparkSession):
        # A session of its own over the same Spark context: the views are named after the record types, and
        # temporary views belong to a session, so two backends (two lakes) in one process never see each other's.
        self.spark = _own_session(spark)
        self.manifest: Manifest | None = None  # the lake folder's, when read from one
        self.missing: list[str] = []  # record types neither the manifest nor the table mapping provides

    # ---- where the record tables come from

    @classmethod
    def from_lake(cls, spark: SparkSession, lake: Path | str) -> SparkBackend:
        """Views over a lake folder written by `kpi lake export` (docs/spark.md "The lake folder"): a local path
        or any URI Spark reads (hdfs://, s3a://). Spark reads exactly the files the manifest lists. A local folder
        is checked as an import checks it (each file's SHA-256 and rows, no unlisted file); for a URI each record
        type's rows must add up to the manifest's. A record type the manifest does not list is an empty view
        (`missing` names them)."""
        from metrics.lake.parquet import check_listed_files

        backend = cls(spark)
        spark = backend.spark  # the backend's own session: its views are registered there
        root = str(lake).rstrip("/")
        manifest = _manifest(root, spark)
        local = _local_path(root)
        if local is not None:
            check_listed_files(local, manifest)
        backend.manifest = manifest
        for record in RECORD_TYPES:
            entry = manifest.records.get(record)
            if entry is not None and entry.files:
                folder = f"{root}/{record}"
                try:
                    df = spark.read.option("basePath", folder).parquet(*[f"{root}/{f.path}" for f in entry.files])
                    rows = df.count() if local is None else entry.rows
                except Exception as exc:  # a listed file gone: Spark's AnalysisException (PATH_NOT_FOUND)
                    raise LakeMismatch(
                        f"{folder}：读取清单中的文件失败（{exc}）", f"{folder}: the manifest's files do not read: {exc}"
                    ) from exc
                if rows != entry.rows:
                    raise LakeMismatch(
                        f"{folder}：读到 {rows:,} 行，清单（manifest.json）记为 {entry.rows:,} 行，目录在导出后被改动",
                        f"{folder}: {rows:,} rows read, the manifest says {entry.rows:,}: "
                        "the folder changed after its export",
                    )
            else:  # a record type with no rows, or not exported: an empty view of the right columns
                if entry is None:
                    backend.missing.append(record)
                df = spark.createDataFrame([], _ddl(record))
            backend._register(record, df, source=f"{root}/{record}")
        return backend

    @classmethod
    def from_tables(cls, spark: SparkSession, tables: Mapping[str, str]) -> SparkBackend:
        """Views over tables the session's catalogue knows (a Hive metastore's, or temporary views), named by
        a mapping record type -> table name (the `tables:` of docs/spark.md's config file). A record type not
        mapped is an empty view: the KPIs over it report no data."""
        backend = cls(spark)
        spark = backend.spark  # the backend's own session: its views are registered there
        unknown = sorted(set(tables) - set(RECORD_TYPES))
        if unknown:
            raise ValueError(f"未知的记录类型 / unknown record types in the table mapping: {', '.join(unknown)}")
        for record in RECORD_TYPES:
            if record in tables:
                backend._register(record, spark.table(tables[record]), source=tables[record])
            else:
                backend.missing.append(record)
                backend._register(record, spark.createDataFrame([], _ddl(record)), source="(none)")
        return backend

    def _register(self, record: str, df: DataFrame, source: str) -> None:
        """A temporary view named after the record type with exactly the spec's columns and types (DATE stays
        DATE, amounts DECIMAL): partition columns and extra columns are left out; a missing column is an error."""
        from pyspark.sql import functions as F

        rt = RECORD_TYPES[record]
        have = set(df.columns)
        missing = [c for c in rt.column_names if c not in have]
        if missing:
            raise ValueError(
                f"{record}（{source}）缺少列 {', '.join(missing)} / {record} ({source}) lacks columns {', '.join(missing)}"
            )
        cols = [F.col(c).cast(SPARK_TYPES[rt.column(c).sql_type]).alias(c) for c in rt.column_names]
        df.select(*cols).createOrReplaceTempView(record)

    # ---- the Backend protocol (metrics.kpi.engine)

    def rows(self, sql: str, params: dict[str, Any], kpis: Sequence[str]) -> list[tuple[Any, ...]]:
        return [tuple(r) for r in self._df(sql, params, kpis).collect()]

    def frame(self, sql: str, params: dict[str, Any], kpis: Sequence[str], columns: Sequence[str]) -> pd.DataFrame:
        import pandas as pd

        return pd.DataFrame.from_records(self.rows(sql, params, kpis), columns=list(columns))

    def _df(self, sql: str, params: dict[str, Any], kpis: Sequence[str]) -> DataFrame:
        statement = to_spark(sql, kpis)  # refused before Spark is asked anything
        return self.spark.sql(statement, args=dict(params))


def _own_session(spark: SparkSession | None) -> Any:
    if spark is None:  # tests of the compile-time checks, which never reach Spark
        return None
    try:
        return spark.newSession()
    except Exception:  # Spark Connect: the client's session is its own already
        return spark


def _ddl(record: str) -> str:
    rt = RECORD_TYPES[record]
    return ", ".join(f"{c} {SPARK_TYPES[rt.column(c).sql_type]}" for c in rt.column_names)


def _local_path(lake: str) -> Path | None:
    """A plain path: the folder on this machine's disk, checked file by file. None for a URI (hdfs://, s3a://,
    file://), which Spark reads and only the row counts are checked for."""
    return None if "://" in lake else Path(lake)


def _manifest(lake: str, spark: SparkSession | None = None) -> Manifest:
    """The lake folder's manifest.json, format checked: from the local disk, or read through Spark for a URI."""
    from metrics.lake.parquet import parse_manifest, read_manifest

    local = _local_path(lake)
    if local is not None:
        return read_manifest(local)
    if spark is None:
        raise ValueError("a lake URI is read through Spark")
    try:
        text = spark.read.text(f"{lake}/manifest.json", wholetext=True).first()[0]  # type: ignore[index]
    except Exception as exc:
        raise LakeMismatch(
            f"{lake} 不是数据湖导出目录（读不到 manifest.json）/ no manifest.json",
            f"{lake} is not a lake folder: {exc}",
        ) from exc
    return parse_manifest(str(text), f"{lake}/manifest.json")


# --------------------------------------------------------------------------- entry point


def load_tables(path: Path) -> dict[str, str]:
    """The `tables:` mapping of a config file (docs/spark.md "Tables by name"): record type -> table name."""
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ValueError(f"{path}：不是有效的 YAML / not valid YAML: {exc}") from exc
    tables = data.get("tables") if isinstance(data, dict) else None
    if not isinstance(tables, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in tables.items()):
        raise ValueError(
            f"{path}：应有 tables: 记录类型 → 表名 的映射 / {path}: expected a 'tables:' mapping of record type to table name"
        )
    return dict(tables)


def spark_engine(
    *,
    lake: Path | str | None = None,
    tables_file: Path | None = None,
    master: str | None = None,
    remote: str | None = None,
    catalogues: Mapping[str, Any] | None = None,
) -> Any:
    """An Engine on Spark for `kpi compute --engine spark`: the catalogues' named queries pass `preflight`
    before the session starts, then the views come from a lake folder or from the mapped tables."""
    from metrics.catalogue import load_catalogues
    from metrics.kpi.engine import Engine

    cats = dict(catalogues) if catalogues is not None else load_catalogues()
    preflight(cats)
    mapping = load_tables(tables_file) if tables_file is not None else None
    if lake is not None and _local_path(str(lake)) is not None:
        _manifest(str(lake))  # a local folder that is not a lake folder is refused before Java starts
    spark = session(master, remote=remote)
    backend = SparkBackend.from_tables(spark, mapping) if mapping is not None else SparkBackend.from_lake(spark, lake)  # type: ignore[arg-type]
    return Engine(None, cats, backend=backend)


def unprovided(engine: Any) -> dict[str, list[str]]:
    """Record types the catalogues read that the lake or the table mapping does not provide, with the KPIs
    reading each: those KPIs will say "no data" (`kpi compute --engine spark` warns on stderr)."""
    from metrics.catalogue.models import RatioMeasure, ReportedMeasure

    missing = set(getattr(engine.backend, "missing", []))
    out: dict[str, list[str]] = {}
    for cat in engine.catalogues.values():
        for kpi in cat.kpis:
            m = kpi.measure
            parts = [m.numerator, m.denominator] if isinstance(m, RatioMeasure) else [m]
            sources = (
                {"progress_reports"} if isinstance(m, ReportedMeasure) else {getattr(p, "source", "") for p in parts}
            )
            for source in sorted(sources & missing):
                out.setdefault(source, []).append(kpi.id)
    return out


# --------------------------------------------------------------------------- results written back

# One row per KPI and as-of date: the JSON contract of `kpi compute`, stamped with what produced it.
RESULT_SCHEMA = (
    "as_of DATE, programme STRING, kpi_id STRING, actual DOUBLE, target DOUBLE, expected DOUBLE, pace DOUBLE, "
    "status STRING, window_start DATE, window_end DATE, numerator DOUBLE, denominator DOUBLE, "
    "catalogue_version STRING, engine STRING, computed_at TIMESTAMP"
)


def write_results(
    spark: SparkSession,
    results: Sequence[Any],
    as_of: Any,
    *,
    path: Path | None = None,
    table: str | None = None,
) -> int:
    """Write the results as a Parquet folder (`path`) or a metastore table (`table`), partitioned by as_of
    (docs/spark.md "Results written back"). Writing the same as-of date again replaces that date's partition
    and no other, so a rerun is safe; returns the rows written."""
    from metrics.catalogue import catalogue_version
    from metrics.storage import clock

    if (path is None) == (table is None):
        raise ValueError("write_results needs a path or a table (one of them)")
    # an aware moment: PySpark reads a naive datetime in the Python process's own time zone (UTC on a server)
    version, stamp = catalogue_version(), clock.now().replace(tzinfo=clock.TIMEZONE)
    rows = [
        (
            as_of,
            r.programme,
            r.kpi_id,
            r.actual,
            r.target,
            r.expected,
            r.pace,
            r.status,
            r.window_start,
            r.window_end,
            r.numerator,
            r.denominator,
            version,
            "spark",
            stamp,
        )
        for r in results
    ]
    spark.conf.set("spark.sql.sources.partitionOverwriteMode", "dynamic")
    df = spark.createDataFrame(rows, RESULT_SCHEMA)
    if path is not None:
        df.write.mode("overwrite").partitionBy("as_of").parquet(str(path))
    else:
        assert table is not None
        if spark.catalog.tableExists(table):
            df.select(*[c for c in spark.table(table).columns]).write.insertInto(table, overwrite=True)
        else:
            df.write.partitionBy("as_of").saveAsTable(table)
    return len(rows)
