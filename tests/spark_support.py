"""Local Spark for the conformance suite (docs/spark.md "Conformance"): one SparkSession per test run.

Without PySpark or Java the Spark tests skip with a message saying how to enable them, except under CI=true,
where they are required and fail instead (.ci/run installs Java 17 and the `spark` dependency group)."""

from __future__ import annotations

import importlib.util
import math
import os
import shutil
from typing import Any

import pandas as pd
import pytest

HOW = (
    "install the Spark backend to run them: pip install -e '.[dev,spark]' (PySpark, sqlglot) and Java 17 "
    "(Debian: apt-get install openjdk-17-jre-headless); .ci/run does both"
)


def _missing() -> str | None:
    if importlib.util.find_spec("pyspark") is None or importlib.util.find_spec("sqlglot") is None:
        return "PySpark or sqlglot is not installed"
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        return "Java is not installed"
    return None


def require_sqlglot() -> None:
    """The compile-time checks need sqlglot only, not Java."""
    if importlib.util.find_spec("sqlglot") is None:
        _unavailable("sqlglot is not installed")


def require_spark() -> None:
    problem = _missing()
    if problem:
        _unavailable(problem)


def _unavailable(problem: str) -> None:
    message = f"Spark tests: {problem}; {HOW}"
    if os.environ.get("CI") == "true":
        pytest.fail(message + " (required under CI=true)", pytrace=False)
    pytest.skip(message)


# --------------------------------------------------------------------------- comparing DuckDB and Spark


def same(a: Any, b: Any, where: str) -> None:
    """Equal as the issue asks: whole numbers exactly, other floats to 1e-9 (relative), the rest as they are."""
    a, b = _plain(a), _plain(b)
    if isinstance(a, dict) and isinstance(b, dict):
        assert a.keys() == b.keys(), where
        for k in a:
            same(a[k], b[k], f"{where}.{k}")
    elif isinstance(a, float) and isinstance(b, float):
        if a.is_integer() or b.is_integer():
            assert a == b, f"{where}: DuckDB {a!r}, Spark {b!r}"
        else:
            assert math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12), f"{where}: DuckDB {a!r}, Spark {b!r}"
    else:
        assert a == b, f"{where}: DuckDB {a!r}, Spark {b!r}"


def _plain(v: Any) -> Any:
    """One spelling for a value whichever engine gave it (a frame cell, a Decimal, a Timestamp)."""
    if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA or v is pd.NaT:
        return None
    if isinstance(v, pd.Timestamp):
        return v.date()
    if hasattr(v, "item") and not isinstance(v, str | bytes):  # numpy scalars
        v = v.item()
    if isinstance(v, bool):
        return v
    if isinstance(v, int):
        return float(v)
    if type(v).__name__ == "Decimal":
        return float(v)
    return v


def same_results(duck: list[Any], spark: list[Any]) -> None:
    assert [r.kpi_id for r in duck] == [r.kpi_id for r in spark]
    for a, b in zip(duck, spark, strict=True):
        same(a.as_dict(), b.as_dict(), a.kpi_id)


def same_frames(duck: pd.DataFrame, spark: pd.DataFrame, where: str) -> None:
    assert list(duck.columns) == list(spark.columns), where
    key = duck.columns[0]

    def rows(df: pd.DataFrame) -> list[dict[str, Any]]:
        records = [{c: _plain(v) for c, v in r.items()} for r in df.to_dict("records")]
        return sorted(records, key=lambda r: (r[key] is None, str(r[key])))

    a, b = rows(duck), rows(spark)
    assert len(a) == len(b), f"{where}: {len(a)} rows on DuckDB, {len(b)} on Spark"
    for i, (ra, rb) in enumerate(zip(a, b, strict=True)):
        same(ra, rb, f"{where}[{ra[key]!r}]#{i}")
