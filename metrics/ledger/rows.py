"""The ledger tables read back: rows as dicts (Record), result sets as frames (the JSON "reported" column
decoded), a task's account row, and the time stamped on ledger writes and used as "today" by its reads.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

import duckdb
import pandas as pd

from metrics.storage import clock

__all__ = ["Record", "now"]

Record = dict[str, Any]


def now() -> dt.datetime:
    """The time stamped on ledger writes: the product's clock (docs/time.md); tests pin the clock."""
    return clock.now()


def _records(cur: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any] | None = None) -> list[Record]:
    res = cur.execute(sql, params)
    cols = [d[0] for d in res.description]
    rows = [dict(zip(cols, r, strict=True)) for r in res.fetchall()]
    for row in rows:
        if isinstance(row.get("reported"), str):
            row["reported"] = json.loads(row["reported"])
    return rows


def _record(cur: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any] | None = None) -> Record | None:
    rows = _records(cur, sql, params)
    return rows[0] if rows else None


def _frame(cur: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any] | None = None) -> pd.DataFrame:
    res = cur.execute(sql, params)
    cols = [d[0] for d in res.description]
    df = pd.DataFrame(res.fetchall(), columns=cols)
    if "reported" in df.columns:
        df["reported"] = [json.loads(v) if isinstance(v, str) else v for v in df["reported"]]
    return df


def _account(cur: duckdb.DuckDBPyConnection, task_id: str) -> Record | None:
    return _record(cur, "SELECT * FROM task_accounts WHERE task_id = ?", [task_id])
