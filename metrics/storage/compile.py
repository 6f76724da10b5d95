"""Compile catalogue measures to DuckDB SQL with bound parameters.

The one place where measure definitions become SQL, for the KPI engine (metrics.kpi) and for the rollups
that storage keeps beside the base tables (metrics.storage.rollup, docs/rollups.md); it sits in storage so
both can use it. Column and table names come from the record spec (validated identifiers); every value —
districts, dates, filter operands — is a bound `$pN` parameter.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from metrics.catalogue.models import (
    CountDistinctMeasure,
    CountMeasure,
    Filter,
    MeanMeasure,
    SumMeasure,
)
from metrics.contract.records import DERIVED_COLUMNS, RECORD_TYPES, known_columns

_IDENT = re.compile(r"^[a-z_][a-z0-9_]*$")

SimpleLike = CountMeasure | CountDistinctMeasure | SumMeasure | MeanMeasure


@dataclass
class Params:
    """Collects bound parameters and hands out their `$name` placeholders."""

    values: dict[str, Any] = field(default_factory=dict)
    _seen: dict[tuple[type, Any], str] = field(default_factory=dict, repr=False)

    def add(self, value: Any) -> str:
        """A placeholder bound to `value`; an equal value of the same type binds once (a query of many KPIs
        repeats its few windows and districts)."""
        key = (type(value), tuple(value) if isinstance(value, list) else value)
        try:
            return self._seen[key]
        except (KeyError, TypeError):
            pass
        name = f"${'p'}{len(self.values)}"
        self.values[name[1:]] = value
        with contextlib.suppress(TypeError):  # an unhashable value binds each time
            self._seen[key] = name
        return name


def ident(source: str, column: str) -> str:
    """A column name checked against the record spec, safe to place in SQL text."""
    if column not in known_columns(source) or not _IDENT.match(column):
        raise ValueError(f"unknown column {column!r} of {source}")
    return column


def relation(source: str) -> str:
    """The FROM item of a record type: its table, with derived columns added where it has any."""
    if source not in RECORD_TYPES:
        raise ValueError(f"unknown record type {source!r}")
    derived = DERIVED_COLUMNS.get(source)
    if not derived:
        return source
    extra = ", ".join(f"{expr} AS {name}" for name, expr in derived.items())
    return f"(SELECT *, {extra} FROM {source}) AS {source}"  # noqa: S608 - names from the record spec


def filter_sql(source: str, filters: list[Filter], params: Params) -> str:
    """AND of the filters, or TRUE."""
    parts = []
    for f in filters:
        col = ident(source, f.column)
        if f.op == "is_null":
            parts.append(f"{col} IS NULL")
        elif f.op == "not_null":
            parts.append(f"{col} IS NOT NULL")
        elif f.op in ("in", "not_in"):
            values = list(f.values or [])
            neg = "NOT " if f.op == "not_in" else ""
            parts.append(f"{neg}list_contains({params.add(values)}, {col})")
        else:
            op = {"eq": "=", "ne": "<>", "ge": ">=", "gt": ">", "le": "<=", "lt": "<"}[f.op]
            parts.append(f"{col} {op} {params.add(f.value)}")
    return " AND ".join(parts) if parts else "TRUE"


def date_column(measure: SimpleLike) -> str:
    col = measure.date_column or RECORD_TYPES[measure.source].date_column
    if col is None:
        raise ValueError(f"{measure.source} has no date column")
    return ident(measure.source, col)


def window_sql(measure: SimpleLike, start: dt.date, end: dt.date, params: Params) -> str:
    return f"{date_column(measure)} BETWEEN {params.add(start)} AND {params.add(end)}"


def aggregate_sql(measure: SimpleLike, condition: str) -> str:
    """The aggregate of a simple measure over the rows meeting `condition` (a FILTER clause)."""
    if isinstance(measure, CountMeasure):
        return f"count(*) FILTER (WHERE {condition})"
    col = ident(measure.source, measure.column)
    if isinstance(measure, CountDistinctMeasure):
        return f"count(DISTINCT {col}) FILTER (WHERE {condition})"
    # Sums of integer and amount columns are exact (HUGEINT, DECIMAL) and become DOUBLE only at the end, so the
    # base tables and the rollups, which add partial sums, give the same bits (docs/rollups.md).
    if isinstance(measure, SumMeasure):
        return f"coalesce(sum({col}) FILTER (WHERE {condition}), 0)::DOUBLE"
    return f"(sum({col}) FILTER (WHERE {condition}))::DOUBLE / nullif(count({col}) FILTER (WHERE {condition}), 0)"
