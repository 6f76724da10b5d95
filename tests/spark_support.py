"""Local Spark for the conformance suite (docs/spark.md "Conformance"): one SparkSession per test run.

Without PySpark or Java the Spark tests skip with a message saying how to enable them, except under CI=true,
where they are required and fail instead (.ci/run installs Java 17 and the `spark` dependency group)."""

from __future__ import annotations

import importlib.util
import os
import shutil

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
